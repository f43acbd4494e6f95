/*
 * metrics.c - the per-daemon /metrics and /healthz listener (see metrics.h).
 */
#include "common/metrics.h"
#include "common/health.h"
#include "common/http.h"
#include "common/util.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>

struct tgm_metrics {
	struct tgm_ctx *ctx;
	struct tgm_http_server *http;
	tgm_metrics_fn fn;
	void *arg;
};

/* on_metrics - GET /metrics: the daemon's families, then the listener's own */
static void on_metrics(struct evhttp_request *req, const struct tgm_http_params *p, void *arg)
{
	struct tgm_metrics *m = arg;
	struct evbuffer *out = evbuffer_new();
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "tgm_%s_metrics", m->ctx->daemon->name);
	m->fn(out, m->arg);
	tgm_http_metrics(m->http, out, prefix);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4");
	tgm_http_reply(req, 200, NULL, (const char *)evbuffer_pullup(out, -1),
		       evbuffer_get_length(out));
	evbuffer_free(out);
}

/* on_health - GET /healthz: common/health.c with the daemon's context */
static void on_health(struct evhttp_request *req, const struct tgm_http_params *p, void *arg)
{
	struct tgm_metrics *m = arg;

	tgm_health_handler(req, p, m->ctx);
}

static const struct tgm_http_route routes[] = {
	{ EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "/metrics", on_metrics, NULL },
	{ EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "/healthz", on_health, NULL },
	{ 0, NULL, NULL, NULL },
};

struct tgm_metrics *tgm_metrics_listen(struct tgm_ctx *ctx, const char *addr, tgm_metrics_fn fn,
				       void *arg, char *err, size_t errlen)
{
	struct tgm_metrics *m = tgm_xcalloc(1, sizeof(*m));

	m->ctx = ctx;
	m->fn = fn;
	m->arg = arg;
	m->http = tgm_http_listen(ctx->base, addr, 1024, routes, m, err, errlen);
	if (m->http == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void tgm_metrics_free(struct tgm_metrics *m)
{
	if (m == NULL)
		return;
	tgm_http_free(m->http);
	free(m);
}

void tgm_metrics_family(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void tgm_metrics_one(struct evbuffer *out, const char *name, const char *type, const char *help,
		     uint64_t value)
{
	tgm_metrics_family(out, name, type, help);
	evbuffer_add_printf(out, "%s %llu\n", name, (unsigned long long)value);
}
