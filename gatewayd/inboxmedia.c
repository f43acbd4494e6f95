/*
 * inboxmedia.c - GET /v1/conversations/{id}/items/{item_id}/media: the file of a user's
 * message (a photo, a voice message, a document...), for the inbox's preview. The item
 * is looked up in the caller's tenant (another tenant's is a 404), the bot's token
 * opened, getFile asked for the file's path, and the file streamed from Telegram's
 * file endpoint as it arrives (botfile.c), never held whole. The answer is sandboxed
 * (its own Content-Security-Policy, nosniff): a user's file never runs as the page.
 *
 * The media cache: a file of at most [gatewayd] media_cache_file_max bytes is copied as
 * it streams by and kept in media_cache by its file_unique_id (also written on the item,
 * for items recorded before it was); the next request for an item of that file (after
 * the same tenant check) is answered from PostgreSQL without asking Telegram. The cache
 * keeps at most media_cache_max bytes: each new file pushes out the oldest past that.
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

/* the item in the caller's tenant, and its file when the cache has it */
static const char find_sql[] =
	"SELECT i.file_id, b.token_sealed, b.telegram_id, i.id, mc.content_type, mc.data"
	" FROM conversation_items i"
	" JOIN conversations c ON c.id = i.conversation_id JOIN bots b ON b.id = c.bot_id"
	" LEFT JOIN media_cache mc ON mc.file_unique_id = i.file_unique_id"
	" WHERE i.id = $2 AND c.id = $1 AND c.tenant_id = $3 AND i.file_id IS NOT NULL"
	" AND b.deleted_at IS NULL";

/* $1 file_unique_id, $2 item, $3 type, $4 size, $5 the bytes (hex), $6 the cache's cap:
 * the file kept, the oldest ones past the cap dropped */
static const char keep_sql[] =
	"WITH i AS (UPDATE conversation_items SET file_unique_id = $1 WHERE id = $2"
	"  AND file_unique_id IS DISTINCT FROM $1),"
	" k AS (INSERT INTO media_cache (file_unique_id, content_type, size, data)"
	"  SELECT $1, $3, $4::int, decode($5, 'hex') WHERE $4::bigint <= $6::bigint"
	"  ON CONFLICT (file_unique_id) DO NOTHING RETURNING size),"
	" old AS (SELECT file_unique_id, sum(size) OVER (ORDER BY cached_at DESC,"
	"  file_unique_id DESC) AS total FROM media_cache)"
	" DELETE FROM media_cache m USING old WHERE m.file_unique_id = old.file_unique_id"
	" AND old.total > $6::bigint - coalesce((SELECT size FROM k), 0)";

/* the bot's token, opened, while getFile runs; the item */
struct media {
	char *token;
	char item[24];
};

/* a file to keep once it has streamed by */
struct keep {
	char *unique_id;
	char item[24];
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

/* sandbox - the headers that keep a user's file from running as the page */
static void sandbox(struct gw_req *r)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);

	evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'; sandbox");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
}

/* on_kept_saved - keep_sql answered: only a failure is worth a line */
static void on_kept_saved(PGresult *res, const char *err, void *arg)
{
	(void)res;
	(void)arg;
	if (err)
		log_warn("inbox media: keeping a file: %s", err);
}

/* on_kept - the streamed file's copy (NULL: none): into media_cache */
static void on_kept(struct gatewayd *gw, const char *type, const void *data, size_t len, void *arg)
{
	struct keep *k = arg;
	char size[24], cap[24], *hex;

	if (data) {
		snprintf(size, sizeof(size), "%zu", len);
		snprintf(cap, sizeof(cap), "%d", gw->ctx->cfg->gatewayd.media_cache_max);
		hex = tgm_xmalloc(2 * len + 1);
		tgm_hex_encode(data, len, hex);
		tgm_pg_query(gw->ctx->db, keep_sql, 6,
			     (const char *const[]){ k->unique_id, k->item, type, size, hex, cap },
			     on_kept_saved, NULL);
		free(hex);
	}
	free(k->unique_id);
	free(k);
}

/* stream - the file at path to the client, kept on the way when it is small enough */
static void stream(struct gw_req *r, const char *path, yajl_val result)
{
	struct media *m = r->data;
	const struct tgm_config *cfg = r->gw->ctx->cfg;
	const char *uid = tgm_json_get_str(result, "file_unique_id");
	int64_t size = -1;
	struct keep *k;

	sandbox(r);
	if (!tgm_json_get_int(result, "file_size", &size))
		size = -1; /* unknown: kept if it turns out small enough */
	if (uid == NULL || cfg->gatewayd.media_cache_file_max == 0 ||
	    size > cfg->gatewayd.media_cache_file_max) {
		gw_botfile_stream(r, m->token, path);
		return;
	}
	k = tgm_xcalloc(1, sizeof(*k));
	k->unique_id = tgm_xstrdup(uid);
	memcpy(k->item, m->item, sizeof(k->item));
	gw_botfile_stream_keep(r, m->token, path, (size_t)cfg->gatewayd.media_cache_file_max,
			       on_kept, k);
}

/* on_file - getFile's answer: stream the file at its path */
static void on_file(const struct tgm_httpc_resp *resp, void *arg)
{
	struct gw_req *r = arg;
	const char *result[] = { "result", NULL };
	yajl_val v = resp->error ? NULL
				 : tgm_json_parse(resp->body, resp->len, resp->len + 1, 8, NULL, 0);
	yajl_val res = yajl_tree_get(v, result, yajl_t_object);
	const char *path = res ? tgm_json_get_str(res, "file_path") : NULL;

	if (path == NULL) {
		log_warn("inbox media: getFile: %s", resp->error ? resp->error : resp->body);
		unreachable(r, "Telegram did not give the file (getFile)");
	} else {
		stream(r, path, res);
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

/* reply_cached - the file from media_cache (row 0 of find_sql's answer) */
static void reply_cached(struct gw_req *r, PGresult *res)
{
	size_t len = 0;
	unsigned char *data = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 5), &len);

	if (data == NULL) {
		gw_reply_db_error(r, "the cached file does not decode");
		return;
	}
	sandbox(r);
	tgm_http_reply(r->req, 200, PQgetvalue(res, 0, 4), (const char *)data, len);
	PQfreemem(data);
	gw_req_free(r);
}

/* on_found - find_sql answered: the cached file, or opens the bot's token and asks
 * getFile for the file's path; a 404 when the item has no file, a 502 when the token
 * does not open */
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
	if (!PQgetisnull(res, 0, 5)) {
		reply_cached(r, res);
		return;
	}
	snprintf(m->item, sizeof(m->item), "%s", PQgetvalue(res, 0, 3));
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
