/*
 * senderd.h - senderd's state and the functions its files share.
 */
#ifndef SENDERD_H
#define SENDERD_H

#include "common/bus.h"
#include "common/daemon.h"

struct senderd {
	struct tgm_bus *doorbells; /* SUB, connected to every doorbell publisher */
	struct tgm_bus *status;    /* PUB, connected to every status subscriber */
};

int sd_start(struct tgm_ctx *ctx, char *err, size_t errlen);
void sd_drain(struct tgm_ctx *ctx);
void sd_stop(struct tgm_ctx *ctx);

#endif
