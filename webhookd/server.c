/*
 * server.c - webhookd's sockets and route table: the HTTP listener for webhooks,
 * the doorbell publisher, the billing work pusher, the status publisher and the
 * Telegram client; the sweep timer; drain closes the listener first and waits for
 * work in flight.
 */
#include "webhookd/webhookd.h"
#include "common/doorbell.h"
#include "common/dbconn.h"
#include "common/health.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#define DRAIN_TIMEOUT_S 10
#define SWEEP_INTERVAL_S 2
#define TG_CONNECTIONS 8
#define POLL_CONNECTIONS 4096 /* a long poll holds its connection: one per polling bot */

/* healthz - common's health check wants the daemon's context */
static void healthz(struct evhttp_request *req, const struct tgm_http_params *p, void *arg)
{
	struct webhookd *wh = arg;

	tgm_health_handler(req, p, wh->ctx);
}

static const struct tgm_http_route routes[] = {
	{ EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "/healthz", healthz, NULL },
	{ EVHTTP_REQ_POST, "/telegram/{bot_id}", wh_telegram_intake, NULL },
	{ EVHTTP_REQ_POST, "/stripe", wh_stripe_intake, NULL },
	{ 0, NULL, NULL, NULL },
};

void wh_ring(struct webhookd *wh, int64_t bot_id)
{
	tgm_doorbell_ring(wh->doorbell, bot_id, false);
}

void wh_chat_gone(struct webhookd *wh, int64_t bot_id, int64_t chat)
{
	char json[96];
	int n = snprintf(json, sizeof(json), "{\"bot_id\":%lld,\"chat\":\"%lld\"}",
			 (long long)bot_id, (long long)chat);

	tgm_bus_send(wh->status, "chat.gone", json, (size_t)n);
}

struct write {
	struct webhookd *wh;
	const char *what;
};

/* on_written - a write of wh_write: logged as what when it failed */
static void on_written(PGresult *res, const char *err, void *arg)
{
	struct write *w = arg;

	(void)res;
	w->wh->inflight--;
	if (err)
		log_warn("%s: %s", w->what, err);
	free(w);
}

void wh_write(struct webhookd *wh, const char *what, const char *sql, int n,
	      const char *const *params)
{
	struct write *w = tgm_xcalloc(1, sizeof(*w));

	w->wh = wh;
	w->what = what;
	wh->inflight++;
	tgm_pg_query(wh->ctx->db, sql, n, params, on_written, w);
}

/* on_sweep - rule 1: the database is swept on a timer, whatever the wake-ups said */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct webhookd *wh = arg;

	(void)fd;
	(void)what;
	if (wh->ctx->stopping)
		return;
	if (wh->bots_reload) {
		wh->bots_reload = false;
		wh_bot_reload(wh, 0);
	}
	wh_repair_sweep(wh);
	wh_process_kick(wh);
	wh_register_due(wh);
}

/* open_buses - bind the doorbell (to senderd), connect the push to billingd and the
 * status publisher to every gatewayd; -1 with err */
static int open_buses(struct webhookd *wh, char *err, size_t errlen)
{
	const struct tgm_config *cfg = wh->ctx->cfg;
	struct event_base *base = wh->ctx->base;

	wh->doorbell = tgm_bus_open(base, tgm_bus_context(), ZMQ_PUB, cfg->webhookd.doorbell, true,
				    err, errlen);
	if (wh->doorbell == NULL)
		return -1;
	wh->billing = tgm_bus_open(base, tgm_bus_context(), ZMQ_PUSH, cfg->webhookd.billing, false,
				   err, errlen);
	if (wh->billing == NULL)
		return -1;
	wh->status = tgm_bus_open(base, tgm_bus_context(), ZMQ_PUB, cfg->webhookd.statuses, false,
				  err, errlen);
	return wh->status ? 0 : -1;
}

int wh_start(struct tgm_ctx *ctx, char *err, size_t errlen)
{
	struct webhookd *wh = tgm_xcalloc(1, sizeof(*wh));
	const struct tgm_config *cfg = ctx->cfg;
	struct timeval tv = { SWEEP_INTERVAL_S, 0 };

	ctx->app = wh;
	wh->ctx = ctx;
	if (!ctx->has_secret_key) {
		snprintf(err, errlen, "[security] secret_key is required (bot tokens are sealed)");
		return -1;
	}
	wh->http = tgm_http_listen(ctx->base, cfg->webhookd.listen, (size_t)cfg->webhookd.max_body,
				   routes, wh, err, errlen);
	if (wh->http == NULL || open_buses(wh, err, errlen) < 0 ||
	    wh_metrics_start(wh, err, errlen) < 0)
		return -1;
	wh->npool = cfg->webhookd.process_connections;
	wh->pool = tgm_xcalloc((size_t)wh->npool, sizeof(*wh->pool));
	for (int i = 0; i < wh->npool; i++)
		wh->pool[i] = tgm_dbconn_async(ctx->base, cfg, "webhookd-process",
					       TGM_DBCONN_POOLED);
	wh_group_start(wh);
	wh->lock_pg = tgm_dbconn_async(ctx->base, cfg, "webhookd-poll-locks", TGM_DBCONN_SESSION);
	wh->tg = tgm_httpc_new(ctx->base, TG_CONNECTIONS);
	wh->tgpoll = tgm_httpc_new(ctx->base, POLL_CONNECTIONS);
	wh->ev_sweep = event_new(ctx->base, -1, EV_PERSIST, on_sweep, wh);
	event_add(wh->ev_sweep, &tv);
	wh_bots_start(wh);
	wh_autoreply_start(wh);
	wh_forward_start(wh);
	wh_process_kick(wh);
	log_info("listening on http://%s", cfg->webhookd.listen);
	return 0;
}

/* wh_busy - the work a drain waits for: calls and queries in flight, a claim being worked */
static int wh_busy(struct webhookd *wh)
{
	return wh->inflight + (wh->processing ? 1 : 0);
}

void wh_drain(struct tgm_ctx *ctx)
{
	struct webhookd *wh = ctx->app;

	tgm_http_stop_accepting(wh->http);
	for (size_t i = 0; i < wh->nbots; i++)
		wh_poll_stop(wh->bots[i]);
	tgm_daemon_drain_when_idle(ctx, DRAIN_TIMEOUT_S);
}

int wh_busy_hook(struct tgm_ctx *ctx)
{
	struct webhookd *wh = ctx->app;

	return wh ? wh_busy(wh) : 0;
}

void wh_stop(struct tgm_ctx *ctx)
{
	struct webhookd *wh = ctx->app;

	if (wh == NULL)
		return;
	if (wh->ev_sweep)
		event_free(wh->ev_sweep);
	wh_metrics_stop(wh);
	wh_forward_free(wh);
	wh_autoreply_free(wh);
	tgm_http_free(wh->http);
	wh_bots_free(wh);
	if (wh->tgpoll)
		tgm_httpc_free(wh->tgpoll);
	if (wh->tg)
		tgm_httpc_free(wh->tg);
	tgm_bus_close(wh->doorbell);
	tgm_bus_close(wh->billing);
	tgm_bus_close(wh->status);
	wh_store_free(wh);
	wh_group_free(wh);
	for (int i = 0; i < wh->npool; i++)
		tgm_pg_free(wh->pool[i]);
	free(wh->pool);
	if (wh->lock_pg)
		tgm_pg_free(wh->lock_pg);
	free(wh);
	ctx->app = NULL;
}
