/*
 * inboxmedia.c - GET /v1/conversations/{id}/items/{item_id}/media: the file of a user's
 * message (a photo, a voice message, a document...), for the inbox's preview. The item
 * is looked up in the caller's tenant (another tenant's is a 404), the bot's token
 * opened, getFile asked for the file's path, and the file streamed from Telegram's
 * file endpoint as it arrives (botfile.c), never held whole. The answer is sandboxed
 * (its own Content-Security-Policy, nosniff): a user's file never runs as the page.
 */
#include "gatewayd/inbox.h"
#include "common/crypto.h"
#include "common/httpc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

static const char find_sql[] =
	"SELECT i.file_id, b.token_sealed, b.telegram_id FROM conversation_items i"
	" JOIN conversations c ON c.id = i.conversation_id JOIN bots b ON b.id = c.bot_id"
	" WHERE i.id = $2 AND c.id = $1 AND c.tenant_id = $3 AND i.file_id IS NOT NULL"
	" AND b.deleted_at IS NULL";

/* the bot's token, opened, while getFile runs */
struct media {
	char *token;
};

/* media_free - wipes and frees the opened token, then the media */
static void media_free(void *p)
{
	struct media *m = p;

	if (m->token) {
		explicit_bzero(m->token, strlen(m->token));
		free(m->token);
	}
	free(m);
}

/* unreachable - answers 502 telegram_unreachable, saying why */
static void unreachable(struct gw_req *r, const char *why)
{
	gw_reply_problem(r, 502, "telegram_unreachable", why, NULL);
}

/* on_file - getFile's answer: stream the file at its path */
static void on_file(const struct tgm_httpc_resp *resp, void *arg)
{
	struct gw_req *r = arg;
	struct media *m = r->data;
	const char *result_path[] = { "result", "file_path", NULL };
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	yajl_val v = resp->error ? NULL : tgm_json_parse(resp->body, resp->len, resp->len + 1,
							 8, NULL, 0);
	yajl_val path = yajl_tree_get(v, result_path, yajl_t_string);

	if (path == NULL) {
		log_warn("inbox media: getFile: %s", resp->error ? resp->error : resp->body);
		unreachable(r, "Telegram did not give the file (getFile)");
	} else {
		evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'; sandbox");
		evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
		gw_botfile_stream(r, m->token, YAJL_GET_STRING(path));
	}
	yajl_tree_free(v);
}

/* get_file - ask Telegram where the file of file_id is */
static void get_file(struct gw_req *r, const char *file_id)
{
	struct media *m = r->data;
	const char *api = r->gw->ctx->cfg->telegram.api_url;
	size_t n = strlen(api);
	char *id = evhttp_uriencode(file_id, -1, 0), *url;

	while (n > 0 && api[n - 1] == '/')
		n--;
	url = tgm_xasprintf("%.*s/bot%s/getFile?file_id=%s", (int)n, api, m->token, id);
	tgm_httpc_request(r->gw->httpc, "GET", url, NULL, NULL, 0,
			  r->gw->ctx->cfg->telegram.timeout * 1000, on_file, r);
	explicit_bzero(url, strlen(url));
	free(url);
	free(id);
}

/* on_found - find_sql answered: opens the bot's token and asks getFile for the file's
 * path; a 404 when the item has no file, a 502 when the token does not open */
static void on_found(struct gw_req *r, PGresult *res, const char *err)
{
	struct media *m = r->data;
	char aad[64];

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) == 0) {
		gw_reply_problem(r, 404, "media_not_found", "no such file in this conversation",
				 NULL);
		return;
	}
	snprintf(aad, sizeof(aad), "bot:%s:token", PQgetvalue(res, 0, 2));
	m->token = tgm_open(r->gw->ctx->secret_key, PQgetvalue(res, 0, 1), aad, NULL);
	if (m->token == NULL) {
		unreachable(r, "the bot's token does not open (security.secret_key changed?)");
		return;
	}
	get_file(r, PQgetvalue(res, 0, 0));
}

void gw_inboxmedia_get(struct gw_req *r)
{
	char id[24], tenant[24], item[24];
	int64_t v;

	if (!gw_conv_path(r, id, tenant))
		return;
	if (!gw_path_id(r, "item_id", &v)) {
		gw_reply_problem(r, 404, "media_not_found", "no such file in this conversation",
				 NULL);
		return;
	}
	snprintf(item, sizeof(item), "%lld", (long long)v);
	r->data = tgm_xcalloc(1, sizeof(struct media));
	r->data_free = media_free;
	gw_query_sql(r, find_sql, 3, (const char *const[]){ id, item, tenant }, on_found);
}
