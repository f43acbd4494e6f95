/*
 * metrics.c - billingd's /metrics (and /healthz) on [billingd] metrics_listen: Stripe
 * calls by outcome, Telegram update lanes busy, steps and HTTP calls in flight. Every
 * number is already in memory: a scrape costs no query.
 */
#include "billingd/billingd.h"
#include "common/metrics.h"

/* write_metrics - tgm_metrics_fn: billingd's families */
static void write_metrics(struct evbuffer *out, void *arg)
{
	struct billingd *bd = arg;

	tgm_metrics_family(out, "tgm_billingd_stripe_calls_total", "counter",
			   "Stripe API calls by outcome (no_answer: the call got no HTTP answer)");
	evbuffer_add_printf(out,
			    "tgm_billingd_stripe_calls_total{outcome=\"ok\"} %lu\n"
			    "tgm_billingd_stripe_calls_total{outcome=\"error\"} %lu\n"
			    "tgm_billingd_stripe_calls_total{outcome=\"no_answer\"} %lu\n",
			    tgm_stripe_calls(TGM_STRIPE_OK), tgm_stripe_calls(TGM_STRIPE_ERROR),
			    tgm_stripe_calls(TGM_STRIPE_NO_ANSWER));
	tgm_metrics_one(out, "tgm_billingd_update_lanes", "gauge",
			"Telegram update lanes working on handed-over updates",
			(uint64_t)bd->tg_lanes);
	tgm_metrics_one(out, "tgm_billingd_steps_running", "gauge",
			"Stripe event and pre-checkout loops with a step in flight",
			(uint64_t)(bd->running + bd->fast_running));
	tgm_metrics_one(out, "tgm_billingd_http_inflight", "gauge",
			"Stripe and Telegram calls in flight", (uint64_t)bd->inflight);
}

int bd_metrics_start(struct billingd *bd, char *err, size_t errlen)
{
	const char *addr = bd->ctx->cfg->billingd.metrics_listen;

	if (addr == NULL || addr[0] == '\0')
		return 0;
	bd->metrics = tgm_metrics_listen(bd->ctx, addr, write_metrics, bd, err, errlen);
	return bd->metrics ? 0 : -1;
}

void bd_metrics_stop(struct billingd *bd)
{
	tgm_metrics_free(bd->metrics);
	bd->metrics = NULL;
}
