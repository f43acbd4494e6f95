/*
 * botapi.c - the Bot-API-compatible endpoint /bot<token>/<method>: finds the bot by
 * its token's SHA-256 (never by the token itself, which no log line names) and
 * answers any other token as Telegram does, 401 Unauthorized; a bot of a tenant
 * that switched the endpoint off (tenants.botapi_enabled) gets 403 Forbidden,
 * saying so. The sending methods are queued and paced by tgm
 * (botsend.c); getUpdates is answered from tgm's update store (botupdates.c), the
 * webhook methods by tgm too (botwebhook.c), file downloads streamed (botfile.c);
 * every other method passes through to Telegram, its answer unchanged.
 */
#include "gatewayd/gatewayd.h"
#include "common/crypto.h"
#include "common/daemon.h"
#include "common/http.h"
#include "common/json.h"
#include "common/httpc.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

static const char unauthorized[] =
	"{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}";

static const char switched_off[] =
	"{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: the Bot API endpoint"
	" is switched off for this bot's tenant in tgm\"}";

static const char bot_sql[] =
	"SELECT b.id, b.tenant_id, t.botapi_enabled FROM bots b"
	" JOIN tenants t ON t.id = b.tenant_id"
	" WHERE b.token_hash = decode($1, 'hex') AND b.deleted_at IS NULL AND b.enabled";

void gw_botapi_error(struct gw_req *r, int code, const char *description, int retry_after)
{
	yajl_gen g = tgm_jgen_new();

	yajl_gen_map_open(g);
	tgm_jgen_kbool(g, "ok", false);
	tgm_jgen_kint(g, "error_code", code);
	tgm_jgen_kstr(g, "description", description);
	if (retry_after > 0) {
		tgm_jgen_key(g, "parameters");
		yajl_gen_map_open(g);
		tgm_jgen_kint(g, "retry_after", retry_after);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	gw_reply_json(r, code, g);
}

/* on_passed - Telegram's answer, status and body unchanged */
static void on_passed(const struct tgm_httpc_resp *resp, void *arg)
{
	struct gw_req *r = arg;

	if (resp->error || resp->status == 0) {
		log_warn("botapi: Telegram unreachable: %s",
			 resp->error ? resp->error : "no answer");
		gw_reply_raw(r, 502,
			     "{\"ok\":false,\"error_code\":502,"
			     "\"description\":\"Bad Gateway\"}");
		return;
	}
	tgm_http_reply(r->req, (int)resp->status, "application/json", resp->body, resp->len);
	gw_req_free(r);
}

/* pass_through - send the request as it came (body, type, query) to Telegram */
static void pass_through(struct gw_req *r, const char *token, const char *method)
{
	const char *api = r->gw->ctx->cfg->telegram.api_url;
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req));
	const char *type = evhttp_find_header(evhttp_request_get_input_headers(r->req),
					      "Content-Type");
	size_t n = strlen(api);
	char *url, *ctype = NULL;
	const char *headers[2] = { NULL, NULL };

	while (n > 0 && api[n - 1] == '/')
		n--;
	url = tgm_xasprintf("%.*s/bot%s/%s%s%s", (int)n, api, token, method, q ? "?" : "",
			    q ? q : "");
	r->body_text = tgm_http_body(r->req, &r->body_len);
	if (type) {
		ctype = tgm_xasprintf("Content-Type: %s", type);
		headers[0] = ctype;
	}
	tgm_httpc_request(r->gw->httpc,
			  evhttp_request_get_command(r->req) == EVHTTP_REQ_GET ? "GET" : "POST",
			  url, headers, r->body_len ? r->body_text : NULL, r->body_len,
			  r->gw->ctx->cfg->telegram.timeout * 1000, on_passed, r);
	free(ctype);
	free(url);
}

/* on_bot - the token's bot, if it is registered and enabled, its tenant using the Bot API */
static void on_bot(struct gw_req *r, PGresult *res, const char *err)
{
	const char *method = tgm_http_param(&r->params, "method");
	int64_t bot_id = 0;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) != 1) {
		gw_reply_raw(r, 401, unauthorized);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
		gw_reply_raw(r, 403, switched_off);
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 0), &bot_id);
	tgm_parse_int64(PQgetvalue(res, 0, 1), &r->tenant_id);
	if (method == NULL) { /* /file/bot<token>/<path> */
		gw_botfile(r);
		return;
	}
	if (gw_botsend_method(method)) {
		gw_botsend(r->gw->botsend, r, bot_id, method);
		return;
	}
	if (strcasecmp(method, "getUpdates") == 0) {
		gw_botupdates_get(r->gw->botupdates, r, bot_id);
		return;
	}
	if (gw_botwebhook_method(method)) {
		gw_botwebhook(r, bot_id, method);
		return;
	}
	pass_through(r, tgm_http_param(&r->params, "token"), tgm_http_param(&r->params, "method"));
}

/* lookup - find the bot of the path's token by the token's hash */
static void lookup(struct gw_req *r)
{
	const char *token = tgm_http_param(&r->params, "token");
	unsigned char d[TGM_SHA256_LEN];
	char hash[2 * TGM_SHA256_LEN + 1];
	const char *p[1] = { hash };

	if (token == NULL || *token == '\0') {
		gw_reply_raw(r, 401, unauthorized);
		return;
	}
	tgm_sha256(token, strlen(token), d);
	tgm_hex_encode(d, sizeof(d), hash);
	gw_query_on(r, r->gw->auth_pg, bot_sql, 1, p, on_bot);
}

void gw_botapi(struct evhttp_request *req, const struct tgm_http_params *p, void *arg)
{
	static const struct gw_route route = { 0, NULL, false };
	struct tgm_ctx *ctx = arg;
	struct gw_req *r = tgm_xcalloc(1, sizeof(*r));

	r->req = req;
	r->gw = ctx->app;
	r->params = *p;
	r->route = &route;
	TAILQ_INIT(&r->query);
	lookup(r);
}
