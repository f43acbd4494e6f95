/*
 * webhookd.h - webhookd's state and the functions its files share.
 */
#ifndef WEBHOOKD_H
#define WEBHOOKD_H

#include "common/bus.h"
#include "common/daemon.h"
#include "common/http.h"

struct webhookd {
	struct tgm_http_server *http;
	struct tgm_bus *doorbell; /* PUB: replies queued for a bot */
	struct tgm_bus *billing;  /* PUSH: work for billingd */
};

int wh_start(struct tgm_ctx *ctx, char *err, size_t errlen);
void wh_drain(struct tgm_ctx *ctx);
void wh_stop(struct tgm_ctx *ctx);

#endif
