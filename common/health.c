/*
 * health.c - the liveness and database check behind GET /healthz: one round trip
 * on the daemon's own connection, so a stuck loop or a lost database shows. A
 * database that does not answer within [database] connect_timeout is reported as
 * unavailable (503) rather than leaving the caller waiting.
 */
#include "common/health.h"
#include "common/daemon.h"
#include "common/json.h"
#include "common/util.h"

#include <stdlib.h>

struct health_check {
	struct evhttp_request *req; /* NULL once answered */
	struct event *timer;
};

/* answer - reply to the request: 200 "ok", or 503 "degraded" naming err */
static void answer(struct health_check *h, const char *err)
{
	yajl_gen g = tgm_jgen_new();

	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "status", err ? "degraded" : "ok");
	tgm_jgen_kstr(g, "database", err ? err : "ok");
	yajl_gen_map_close(g);
	tgm_http_reply_json(h->req, err ? 503 : 200, g);
	h->req = NULL;
}

/* check_free - free a check and its timer (its request is answered by then) */
static void check_free(struct health_check *h)
{
	event_free(h->timer);
	free(h);
}

/* on_ping - the round trip answered (err: it failed): reply if the timeout has not, free h */
static void on_ping(PGresult *res, const char *err, void *arg)
{
	struct health_check *h = arg;

	if (h->req)
		answer(h, err);
	check_free(h);
}

/* on_timeout - the database took longer than connect_timeout: reply 503 now */
static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct health_check *h = arg;

	answer(h, "the database does not answer");
	/* the query still owns h: on_ping frees it when it finally completes */
}

void tgm_health_handler(struct evhttp_request *req, const struct tgm_http_params *p, void *arg)
{
	struct tgm_ctx *ctx = arg;
	struct health_check *h = tgm_xcalloc(1, sizeof(*h));
	struct timeval tv = { ctx->cfg->database.connect_timeout, 0 };

	h->req = req;
	h->timer = evtimer_new(ctx->base, on_timeout, h);
	evtimer_add(h->timer, &tv);
	tgm_pg_query(ctx->db, "SELECT 1", 0, NULL, on_ping, h);
}
