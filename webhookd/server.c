/*
 * server.c - webhookd's sockets and route table: the HTTP listener for webhooks,
 * the doorbell publisher and the billing work pusher; drain closes the listener first.
 */
#include "webhookd/webhookd.h"
#include "common/health.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <zmq.h>

#define DRAIN_TIMEOUT_S 10

static const struct tgm_http_route routes[] = {
	{ EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "/healthz", tgm_health_handler, NULL },
	{ 0, NULL, NULL, NULL },
};

int wh_start(struct tgm_ctx *ctx, char *err, size_t errlen)
{
	struct webhookd *wh = tgm_xcalloc(1, sizeof(*wh));
	const struct tgm_config *cfg = ctx->cfg;

	ctx->app = wh;
	wh->http = tgm_http_listen(ctx->base, cfg->webhookd.listen, (size_t)cfg->webhookd.max_body,
				   routes, ctx, err, errlen);
	if (wh->http == NULL)
		return -1;
	wh->doorbell = tgm_bus_open(ctx->base, tgm_bus_context(), ZMQ_PUB, cfg->webhookd.doorbell,
				    true, err, errlen);
	if (wh->doorbell == NULL)
		return -1;
	wh->billing = tgm_bus_open(ctx->base, tgm_bus_context(), ZMQ_PUSH, cfg->webhookd.billing,
				   false, err, errlen);
	if (wh->billing == NULL)
		return -1;
	log_info("listening on http://%s", cfg->webhookd.listen);
	return 0;
}

void wh_drain(struct tgm_ctx *ctx)
{
	struct webhookd *wh = ctx->app;

	tgm_http_stop_accepting(wh->http);
	tgm_daemon_drain_when_idle(ctx, DRAIN_TIMEOUT_S);
}

void wh_stop(struct tgm_ctx *ctx)
{
	struct webhookd *wh = ctx->app;

	if (wh == NULL)
		return;
	tgm_http_free(wh->http);
	tgm_bus_close(wh->doorbell);
	tgm_bus_close(wh->billing);
	free(wh);
	ctx->app = NULL;
}
