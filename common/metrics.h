/*
 * metrics.h - a daemon's own small HTTP listener for GET /metrics (Prometheus text
 * format, each family with HELP and TYPE) and GET /healthz (common/health.c), on the
 * address of its [daemon] metrics_listen key. The daemon says what to write.
 */
#ifndef TGM_METRICS_H
#define TGM_METRICS_H

#include "common/daemon.h"

#include <event2/buffer.h>
#include <stdint.h>

struct tgm_metrics;

/* tgm_metrics_fn - append the daemon's families to out */
typedef void (*tgm_metrics_fn)(struct evbuffer *out, void *arg);

/* tgm_metrics_listen - listen on addr ("host:port"); NULL with err on failure */
struct tgm_metrics *tgm_metrics_listen(struct tgm_ctx *ctx, const char *addr, tgm_metrics_fn fn,
				       void *arg, char *err, size_t errlen);
/* tgm_metrics_free - close the listener (NULL is fine) */
void tgm_metrics_free(struct tgm_metrics *m);

/* tgm_metrics_family - the "# HELP" and "# TYPE" lines of a family */
void tgm_metrics_family(struct evbuffer *out, const char *name, const char *type, const char *help);
/* tgm_metrics_one - a family of one unlabelled sample */
void tgm_metrics_one(struct evbuffer *out, const char *name, const char *type, const char *help,
		     uint64_t value);

#endif
