/*
 * bus.c - billingd's sockets and timers: it binds the work queue (PULL) webhookd
 * pushes to, its doorbell publisher and its status subscriber; it listens on the
 * database channel tgm_billing (auto-recharges made by the ledger trigger); every
 * wake-up and the sweep timer kick work.c's loop. Drain waits for the step in flight.
 */
#include "billingd/billingd.h"
#include "common/doorbell.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#define DRAIN_TIMEOUT_S 10
#define SWEEP_INTERVAL_S 1
#define HTTP_CONNECTIONS 4

/* on_work - webhookd pushed work (a stored update or event): look */
static void on_work(const char *topic, const char *json, size_t len, void *arg)
{
	struct billingd *bd = arg;

	log_debug("billing work topic=%s %.*s", topic, (int)len, json);
	bd_kick(bd);
}

/* on_status - a message transition from senderd (unused yet) */
static void on_status(const char *topic, const char *json, size_t len, void *arg)
{
	(void)json;
	(void)len;
	(void)arg;
	log_debug("status event topic=%s", topic);
}

/* on_notify - tgm_billing: the ledger trigger made a recharge */
static void on_notify(const char *payload, void *arg)
{
	(void)payload;
	bd_kick(arg);
}

/* on_sweep - rule 1: the database is swept, whatever the wake-ups said */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct billingd *bd = arg;

	(void)fd;
	(void)what;
	if (!bd->ctx->stopping)
		bd_kick(bd);
}

void bd_ring(struct billingd *bd, int64_t bot_id)
{
	tgm_doorbell_ring(bd->doorbell, bot_id, false);
}

bool bd_stripe_conf(const struct billingd *bd, struct tgm_stripe_conf *conf)
{
	const struct tgm_config *cfg = bd->ctx->cfg;

	conf->api_url = cfg->stripe.api_url;
	conf->secret_key = cfg->stripe.secret_key;
	conf->version = cfg->stripe.api_version;
	conf->timeout_ms = cfg->stripe.timeout * 1000;
	return cfg->stripe.secret_key && *cfg->stripe.secret_key;
}

/* open_buses - bind the work queue, the doorbell and the status socket */
static int open_buses(struct billingd *bd, char *err, size_t errlen)
{
	const struct tgm_config *cfg = bd->ctx->cfg;
	struct event_base *base = bd->ctx->base;
	void *z = tgm_bus_context();

	bd->work = tgm_bus_open(base, z, ZMQ_PULL, cfg->billingd.work, true, err, errlen);
	if (bd->work == NULL)
		return -1;
	tgm_bus_on_message(bd->work, on_work, bd);
	bd->doorbell = tgm_bus_open(base, z, ZMQ_PUB, cfg->billingd.doorbell, true, err, errlen);
	if (bd->doorbell == NULL)
		return -1;
	bd->status = tgm_bus_open(base, z, ZMQ_SUB, cfg->billingd.status, true, err, errlen);
	if (bd->status == NULL)
		return -1;
	tgm_bus_subscribe(bd->status, "msg.");
	tgm_bus_on_message(bd->status, on_status, bd);
	return 0;
}

int bd_start(struct tgm_ctx *ctx, char *err, size_t errlen)
{
	struct billingd *bd = tgm_xcalloc(1, sizeof(*bd));
	struct timeval tv = { SWEEP_INTERVAL_S, 0 };

	ctx->app = bd;
	bd->ctx = ctx;
	if (open_buses(bd, err, errlen) < 0)
		return -1;
	bd->http = tgm_httpc_new(ctx->base, HTTP_CONNECTIONS);
	bd->ev_sweep = event_new(ctx->base, -1, EV_PERSIST, on_sweep, bd);
	event_add(bd->ev_sweep, &tv);
	tgm_pg_listen(ctx->db, "tgm_billing", on_notify, bd);
	if (bd_metrics_start(bd, err, errlen) != 0)
		return -1;
	if (!ctx->cfg->stripe.secret_key || !*ctx->cfg->stripe.secret_key)
		log_notice("[stripe] secret_key is not set: card payments are off");
	bd_kick(bd);
	return 0;
}

int bd_busy(struct tgm_ctx *ctx)
{
	struct billingd *bd = ctx->app;

	if (bd == NULL)
		return 0;
	return bd->inflight + bd->tg_lanes + (bd->running ? 1 : 0) + (bd->fast_running ? 1 : 0) +
	       (bd->notice_running ? 1 : 0);
}

void bd_drain(struct tgm_ctx *ctx)
{
	tgm_daemon_drain_when_idle(ctx, DRAIN_TIMEOUT_S);
}

void bd_stop(struct tgm_ctx *ctx)
{
	struct billingd *bd = ctx->app;

	if (bd == NULL)
		return;
	bd_metrics_stop(bd);
	if (bd->ev_sweep)
		event_free(bd->ev_sweep);
	if (bd->http)
		tgm_httpc_free(bd->http);
	tgm_bus_close(bd->work);
	tgm_bus_close(bd->doorbell);
	tgm_bus_close(bd->status);
	free(bd);
	ctx->app = NULL;
}
