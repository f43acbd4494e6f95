/*
 * billingd.h - billingd's state and the functions its files share.
 */
#ifndef BILLINGD_H
#define BILLINGD_H

#include "common/bus.h"
#include "common/daemon.h"

struct billingd {
	struct tgm_bus *work;     /* PULL: billing work pushed by webhookd */
	struct tgm_bus *doorbell; /* PUB: receipts and invoices queued for a bot */
	struct tgm_bus *status;   /* SUB: message transitions from senderd */
};

int bd_start(struct tgm_ctx *ctx, char *err, size_t errlen);
void bd_drain(struct tgm_ctx *ctx);
void bd_stop(struct tgm_ctx *ctx);

#endif
