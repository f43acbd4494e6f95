/*
 * server.c - gatewayd's sockets and route table: the HTTP listener, the doorbell
 * publisher and the status subscriber; drain closes the listener first.
 */
#include "gatewayd/gatewayd.h"
#include "common/health.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <zmq.h>

#define DRAIN_TIMEOUT_S 10

static const struct tgm_http_route routes[] = {
	{ EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "/healthz", tgm_health_handler },
	{ EVHTTP_REQ_GET, "/metrics", gw_metrics_handler },
	{ 0, NULL, NULL },
};

static void on_status(const char *topic, const char *json, size_t len, void *arg)
{
	log_debug("status event topic=%s", topic);
}

void gw_metrics_handler(struct evhttp_request *req, const struct tgm_http_params *p, void *arg)
{
	struct tgm_ctx *ctx = arg;
	struct gatewayd *gw = ctx->app;
	struct evbuffer *out = evbuffer_new();

	tgm_http_metrics(gw->http, out, "tgm_gatewayd");
	evbuffer_add_printf(out, "# TYPE tgm_gatewayd_doorbells_dropped_total counter\n"
				 "tgm_gatewayd_doorbells_dropped_total %lu\n",
			    tgm_bus_dropped(gw->doorbell));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

int gw_start(struct tgm_ctx *ctx, char *err, size_t errlen)
{
	struct gatewayd *gw = tgm_xcalloc(1, sizeof(*gw));
	const struct tgm_config *cfg = ctx->cfg;

	ctx->app = gw;
	gw->doorbell = tgm_bus_open(ctx->base, tgm_bus_context(), ZMQ_PUB, cfg->gatewayd.doorbell,
				    true, err, errlen);
	if (gw->doorbell == NULL)
		return -1;
	gw->status = tgm_bus_open(ctx->base, tgm_bus_context(), ZMQ_SUB, cfg->gatewayd.status,
				  true, err, errlen);
	if (gw->status == NULL)
		return -1;
	tgm_bus_subscribe(gw->status, "msg.");
	tgm_bus_on_message(gw->status, on_status, ctx);
	gw->http = tgm_http_listen(ctx->base, cfg->gatewayd.listen, (size_t)cfg->gatewayd.max_body,
				   routes, ctx, err, errlen);
	if (gw->http == NULL)
		return -1;
	log_info("listening on http://%s", cfg->gatewayd.listen);
	return 0;
}

void gw_drain(struct tgm_ctx *ctx)
{
	struct gatewayd *gw = ctx->app;

	tgm_http_stop_accepting(gw->http);
	tgm_daemon_drain_when_idle(ctx, DRAIN_TIMEOUT_S);
}

void gw_stop(struct tgm_ctx *ctx)
{
	struct gatewayd *gw = ctx->app;

	if (gw == NULL)
		return;
	tgm_http_free(gw->http);
	tgm_bus_close(gw->doorbell);
	tgm_bus_close(gw->status);
	free(gw);
	ctx->app = NULL;
}
