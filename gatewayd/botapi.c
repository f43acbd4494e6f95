/*
 * botapi.c - the Bot-API-compatible endpoint /bot<token>/<method>: finds the bot by
 * its token's SHA-256 (never by the token itself, which no log line names) and
 * answers any other token as Telegram does, 401 Unauthorized. Methods are not served
 * yet: a registered bot gets Telegram's 404 Not Found.
 */
#include "gatewayd/gatewayd.h"
#include "common/crypto.h"
#include "common/daemon.h"
#include "common/util.h"

#include <event2/keyvalq_struct.h>
#include <string.h>
#include <sys/queue.h>

static const char unauthorized[] =
	"{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}";
static const char not_found[] = "{\"ok\":false,\"error_code\":404,\"description\":\"Not Found\"}";

static const char bot_sql[] =
	"SELECT id, tenant_id FROM bots"
	" WHERE token_hash = decode($1, 'hex') AND deleted_at IS NULL AND enabled";

/* on_bot - the token's bot, if it is registered and enabled */
static void on_bot(struct gw_req *r, PGresult *res, const char *err)
{
	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) != 1) {
		gw_reply_raw(r, 401, unauthorized);
		return;
	}
	gw_reply_raw(r, 404, not_found);
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
	static const struct gw_route route = { 0, NULL };
	struct tgm_ctx *ctx = arg;
	struct gw_req *r = tgm_xcalloc(1, sizeof(*r));

	r->req = req;
	r->gw = ctx->app;
	r->params = *p;
	r->route = &route;
	TAILQ_INIT(&r->query);
	lookup(r);
}
