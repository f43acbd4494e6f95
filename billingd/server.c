/*
 * server.c - billingd's life: start (the buses of bus.c, the HTTP client, the sweep
 * timer, the metrics listener, the first kick), the busy count drain waits on, and
 * stop. The sweep kicks work.c's loopss every second whatever the wake-ups said, so a
 * lost wake-up costs latency only.
 */
#include "billingd/billingd.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>

#define DRAIN_TIMEOUT_S 10
#define SWEEP_INTERVAL_S 1
#define HTTP_CONNECTIONS 4

/* on_sweep - the database is swept, whatever the wake-ups said */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct billingd *bd = arg;

	(void)fd;
	(void)what;
	if (!bd->ctx->stopping)
		bd_work_kick(bd);
}

int bd_start(struct tgm_ctx *ctx, char *err, size_t errlen)
{
	struct billingd *bd = tgm_xcalloc(1, sizeof(*bd));
	struct timeval tv = { SWEEP_INTERVAL_S, 0 };

	ctx->app = bd;
	bd->ctx = ctx;
	if (bd_bus_open(bd, err, errlen) < 0)
		return -1;
	bd->http = tgm_httpc_new(ctx->base, HTTP_CONNECTIONS);
	bd->ev_sweep = event_new(ctx->base, -1, EV_PERSIST, on_sweep, bd);
	event_add(bd->ev_sweep, &tv);
	if (bd_metrics_start(bd, err, errlen) != 0)
		return -1;
	if (!ctx->cfg->stripe.secret_key || !*ctx->cfg->stripe.secret_key)
		log_notice("[stripe] secret_key is not set: card payments are off");
	bd_work_kick(bd);
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
	bd_bus_close(bd);
	free(bd);
	ctx->app = NULL;
}
