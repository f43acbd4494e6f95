/*
 * metrics.c - webhookd's /metrics (and /healthz) on [webhookd] metrics_listen, apart
 * from the public webhook listener: the updates and Stripe events received by route
 * and answer (2xx stored, 4xx refused, 5xx to be sent again), bots loaded, long polls
 * and calls in flight, auto-replies queued and messages held as a flood (autoreply.c).
 * All in memory: a scrape costs no query.
 */
#include "webhookd/webhookd.h"
#include "common/metrics.h"
#include "common/http.h"

/* write_metrics - tgm_metrics_fn: webhookd's families */
static void write_metrics(struct evbuffer *out, void *arg)
{
	struct webhookd *wh = arg;

	tgm_http_metrics(wh->http, out, "tgm_webhookd"); /* updates by outcome */
	tgm_metrics_one(out, "tgm_webhookd_bots", "gauge", "bots loaded", (uint64_t)wh->nbots);
	tgm_metrics_one(out, "tgm_webhookd_polls", "gauge", "getUpdates long polls in flight",
			(uint64_t)wh->polls);
	tgm_metrics_one(out, "tgm_webhookd_inflight", "gauge",
			"Telegram calls and stores in flight", (uint64_t)wh->inflight);
	tgm_metrics_one(out, "tgm_webhookd_processing", "gauge",
			"1 while a claim or an update is being processed", wh->processing ? 1 : 0);
	wh_autoreply_metrics(wh, out);
}

int wh_metrics_start(struct webhookd *wh, char *err, size_t errlen)
{
	const char *addr = wh->ctx->cfg->webhookd.metrics_listen;

	if (addr == NULL || addr[0] == '\0')
		return 0;
	wh->metrics = tgm_metrics_listen(wh->ctx, addr, write_metrics, wh, err, errlen);
	return wh->metrics ? 0 : -1;
}

void wh_metrics_stop(struct webhookd *wh)
{
	tgm_metrics_free(wh->metrics);
	wh->metrics = NULL;
}
