/*
 * metrics.c - senderd's /metrics (and /healthz) on [senderd] metrics_listen: sends by
 * outcome, Telegram 429s, lanes, requests in flight, the round trip they are sized by
 * and its probes, and delivery callbacks in flight.
 * Every number is a counter or a field already in memory: a scrape costs no query.
 */
#include "senderd/senderd.h"
#include "common/httpc.h"
#include "common/metrics.h"

#include <stdio.h>

/* write_metrics - tgm_metrics_fn: senderd's families */
static void write_metrics(struct evbuffer *out, void *arg)
{
	struct senderd *sd = arg;

	tgm_metrics_family(out, "tgm_senderd_sends_total", "counter",
			   "Telegram sends by outcome (retried: to be sent again)");
	evbuffer_add_printf(out,
			    "tgm_senderd_sends_total{outcome=\"sent\"} %lu\n"
			    "tgm_senderd_sends_total{outcome=\"failed\"} %lu\n"
			    "tgm_senderd_sends_total{outcome=\"retried\"} %lu\n",
			    sd->sent, sd->failed, sd->retried);
	tgm_metrics_one(out, "tgm_senderd_telegram_429_total", "counter",
			"Telegram answers 429 Too Many Requests", sd->flood);
	tgm_metrics_one(out, "tgm_senderd_lanes", "gauge",
			"bots this senderd sends for (one lane each)", (uint64_t)sd->nlanes);
	tgm_metrics_one(out, "tgm_senderd_inflight", "gauge", "Telegram requests in flight",
			(uint64_t)sd->inflight);
	if (sd->flight.base >= 0) {
		tgm_metrics_family(out, "tgm_senderd_round_trip_base_seconds", "gauge",
				   "Telegram's round trip when nothing queues: the lanes' caps");
		evbuffer_add_printf(out, "tgm_senderd_round_trip_base_seconds %.3f\n",
				    (double)sd->flight.base / 1000);
	}
	tgm_metrics_one(out, "tgm_senderd_round_trip_probes_total", "counter",
			"times the lanes sent few to measure the round trip again",
			sd->flight.probes);
	tgm_metrics_one(out, "tgm_senderd_callbacks_inflight", "gauge",
			"delivery callbacks claimed and in flight",
			(uint64_t)sd->callbacks_inflight);
}

int sd_metrics_start(struct senderd *sd, char *err, size_t errlen)
{
	const char *addr = sd->ctx->cfg->senderd.metrics_listen;

	if (addr == NULL || addr[0] == '\0')
		return 0;
	sd->metrics = tgm_metrics_listen(sd->ctx, addr, write_metrics, sd, err, errlen);
	return sd->metrics ? 0 : -1;
}

void sd_metrics_stop(struct senderd *sd)
{
	tgm_metrics_free(sd->metrics);
	sd->metrics = NULL;
}
