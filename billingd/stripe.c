/*
 * stripe.c - the Stripe client's settings for billingd's calls (checkout.c,
 * recharge.c, success.c), read afresh from the configuration each time, so a reload
 * takes effect at the next call.
 */
#include "billingd/billingd.h"

bool bd_stripe_conf(const struct billingd *bd, struct tgm_stripe_conf *conf)
{
	const struct tgm_config *cfg = bd->ctx->cfg;

	conf->api_url = cfg->stripe.api_url;
	conf->secret_key = cfg->stripe.secret_key;
	conf->version = cfg->stripe.api_version;
	conf->timeout_ms = cfg->stripe.timeout * 1000;
	return cfg->stripe.secret_key && *cfg->stripe.secret_key;
}
