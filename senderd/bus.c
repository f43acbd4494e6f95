/*
 * bus.c - senderd's ZeroMQ wiring: it connects a SUB socket to every doorbell
 * publisher and a PUB socket to every status subscriber (senderd instances come and
 * go; the daemons that run once per host bind).
 */
#include "senderd/senderd.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <zmq.h>

static void on_doorbell(const char *topic, const char *json, size_t len, void *arg)
{
	log_debug("doorbell topic=%s", topic);
}

int sd_start(struct tgm_ctx *ctx, char *err, size_t errlen)
{
	struct senderd *sd = tgm_xcalloc(1, sizeof(*sd));

	ctx->app = sd;
	sd->doorbells = tgm_bus_open(ctx->base, tgm_bus_context(), ZMQ_SUB,
				     ctx->cfg->senderd.doorbells, false, err, errlen);
	if (sd->doorbells == NULL)
		return -1;
	tgm_bus_subscribe(sd->doorbells, "bot.");
	tgm_bus_on_message(sd->doorbells, on_doorbell, ctx);
	sd->status = tgm_bus_open(ctx->base, tgm_bus_context(), ZMQ_PUB, ctx->cfg->senderd.statuses,
				  false, err, errlen);
	return sd->status ? 0 : -1;
}

void sd_drain(struct tgm_ctx *ctx)
{
	tgm_daemon_drain_when_idle(ctx, ctx->cfg->senderd.drain_timeout);
}

void sd_stop(struct tgm_ctx *ctx)
{
	struct senderd *sd = ctx->app;

	if (sd == NULL)
		return;
	tgm_bus_close(sd->doorbells);
	tgm_bus_close(sd->status);
	free(sd);
	ctx->app = NULL;
}
