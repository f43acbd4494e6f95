/*
 * health.h - GET /healthz and GET /metrics basics shared by the HTTP daemons.
 * Route handlers here take the daemon's struct tgm_ctx as their argument.
 */
#ifndef TGM_HEALTH_H
#define TGM_HEALTH_H

#include "common/http.h"

/* tgm_health_handler - 200 {"status":"ok","database":"ok"}, or 503 with the reason */
void tgm_health_handler(struct evhttp_request *req, const struct tgm_http_params *p, void *arg);

#endif
