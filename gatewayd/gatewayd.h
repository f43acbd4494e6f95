/*
 * gatewayd.h - gatewayd's state and the functions its files share.
 */
#ifndef GATEWAYD_H
#define GATEWAYD_H

#include "common/bus.h"
#include "common/daemon.h"
#include "common/http.h"

struct gatewayd {
	struct tgm_http_server *http;
	struct tgm_bus *doorbell; /* PUB: "bot.<id>" wakes senderd lanes */
	struct tgm_bus *status;   /* SUB: "msg.<status>" from senderd */
};

int gw_start(struct tgm_ctx *ctx, char *err, size_t errlen);
void gw_drain(struct tgm_ctx *ctx);
void gw_stop(struct tgm_ctx *ctx);

/* GET /metrics */
void gw_metrics_handler(struct evhttp_request *req, const struct tgm_http_params *p, void *arg);

#endif
