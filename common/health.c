/*
 * health.c - the liveness and database check behind GET /healthz: one round trip
 * on the daemon's own connection, so a stuck loop or a lost database shows.
 */
#include "common/health.h"
#include "common/daemon.h"
#include "common/json.h"

static void on_ping(PGresult *res, const char *err, void *arg)
{
	struct evhttp_request *req = arg;
	yajl_gen g = tgm_jgen_new();

	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "status", err ? "degraded" : "ok");
	tgm_jgen_kstr(g, "database", err ? err : "ok");
	yajl_gen_map_close(g);
	tgm_http_reply_json(req, err ? 503 : 200, g);
}

void tgm_health_handler(struct evhttp_request *req, const struct tgm_http_params *p, void *arg)
{
	struct tgm_ctx *ctx = arg;

	tgm_pg_query(ctx->db, "SELECT 1", 0, NULL, on_ping, req);
}
