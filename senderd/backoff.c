/*
 * backoff.c - exponential backoff with jitter, for sends that may pass when tried again
 * (deliver.c) and for delivery callbacks (callback.c). No I/O: unit-tested on its own.
 */
#include "senderd/backoff.h"
#include "common/config.h"
#include "common/util.h"

static uint64_t jitter_state;

void backoff_seed(uint64_t seed)
{
	jitter_state = seed;
}

double backoff_jitter(void)
{
	if (jitter_state == 0)
		jitter_state = (uint64_t)tgm_now_ms() * 2654435761u | 1;
	jitter_state ^= jitter_state << 13;
	jitter_state ^= jitter_state >> 7;
	jitter_state ^= jitter_state << 17;
	return 0.5 + (double)(jitter_state % 1000000) / 1000000.0;
}

int backoff_ms(const struct tgm_config *cfg, int attempts)
{
	double ms = cfg->senderd.retry_base_ms;
	double cap = cfg->senderd.retry_cap_s * 1000.0;

	for (int i = 1; i < attempts && ms < cap; i++)
		ms *= 2;
	ms *= backoff_jitter();
	return (int)(ms < cap ? ms : cap);
}
