/*
 * retention.h - the retention pruner: old messages, events and records removed as
 * [retention] says, by one gatewayd of the cluster at a time (see retention.c).
 */
#ifndef GW_RETENTION_H
#define GW_RETENTION_H

#include "common/daemon.h"

struct gw_retention;

/* gw_retention_new - start running every [retention] interval, first at once */
struct gw_retention *gw_retention_new(struct tgm_ctx *ctx);
/* gw_retention_stop - no more runs; the lease is given back once the step in flight ends */
void gw_retention_stop(struct gw_retention *r);
/* gw_retention_busy - queries in flight */
int gw_retention_busy(const struct gw_retention *r);
void gw_retention_free(struct gw_retention *r);

#endif
