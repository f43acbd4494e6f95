/*
 * bus.c - billingd's ZeroMQ wiring: it binds the work queue (PULL) webhookd pushes
 * to, its doorbell publisher, and its status subscriber.
 */
#include "billingd/billingd.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <zmq.h>

#define DRAIN_TIMEOUT_S 10

static void on_work(const char *topic, const char *json, size_t len, void *arg)
{
	log_debug("billing work topic=%s", topic);
}

static void on_status(const char *topic, const char *json, size_t len, void *arg)
{
	log_debug("status event topic=%s", topic);
}

int bd_start(struct tgm_ctx *ctx, char *err, size_t errlen)
{
	struct billingd *bd = tgm_xcalloc(1, sizeof(*bd));
	const struct tgm_config *cfg = ctx->cfg;
	void *z = tgm_bus_context();

	ctx->app = bd;
	bd->work = tgm_bus_open(ctx->base, z, ZMQ_PULL, cfg->billingd.work, true, err, errlen);
	if (bd->work == NULL)
		return -1;
	tgm_bus_on_message(bd->work, on_work, ctx);
	bd->doorbell = tgm_bus_open(ctx->base, z, ZMQ_PUB, cfg->billingd.doorbell, true, err, errlen);
	if (bd->doorbell == NULL)
		return -1;
	bd->status = tgm_bus_open(ctx->base, z, ZMQ_SUB, cfg->billingd.status, true, err, errlen);
	if (bd->status == NULL)
		return -1;
	tgm_bus_subscribe(bd->status, "msg.");
	tgm_bus_on_message(bd->status, on_status, ctx);
	return 0;
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
	tgm_bus_close(bd->work);
	tgm_bus_close(bd->doorbell);
	tgm_bus_close(bd->status);
	free(bd);
	ctx->app = NULL;
}
