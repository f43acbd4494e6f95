/*
 * ratelimit.c - the per-key request rate: a token bucket per API key, kept in memory
 * by each gatewayd (behind a load balancer each instance enforces its share).
 *
 * Buckets live in an open-addressing hash table keyed by key id; an idle bucket is
 * full again, so buckets older than a minute are reused when the table fills.
 */
#include "gatewayd/gatewayd.h"
#include "common/util.h"

#include <stdlib.h>

#define RL_SLOTS 4096 /* power of two */
#define RL_IDLE_MS 60000

struct rl_bucket {
	int64_t key_id; /* 0: free */
	double tokens;
	int64_t at_ms;
};

struct gw_ratelimit {
	struct rl_bucket slot[RL_SLOTS];
};

struct gw_ratelimit *gw_ratelimit_new(void)
{
	return tgm_xcalloc(1, sizeof(struct gw_ratelimit));
}

void gw_ratelimit_free(struct gw_ratelimit *rl)
{
	free(rl);
}

/* find - the bucket of key_id, or a free or stale one to take over */
static struct rl_bucket *find(struct gw_ratelimit *rl, int64_t key_id, int64_t now)
{
	uint64_t h = (uint64_t)key_id * 0x9E3779B97F4A7C15ULL;
	struct rl_bucket *stale = NULL;

	for (int i = 0; i < 64; i++) {
		struct rl_bucket *b = &rl->slot[(h + (uint64_t)i) & (RL_SLOTS - 1)];

		if (b->key_id == key_id || b->key_id == 0)
			return b;
		if (stale == NULL && now - b->at_ms > RL_IDLE_MS)
			stale = b;
	}
	return stale ? stale : &rl->slot[h & (RL_SLOTS - 1)];
}

bool gw_ratelimit_take(struct gw_ratelimit *rl, int64_t key_id, int rate, int burst, int *remaining,
		       int *reset_s)
{
	return gw_ratelimit_take_at(rl, key_id, rate, burst, tgm_mono_ms(), remaining, reset_s);
}

bool gw_ratelimit_take_at(struct gw_ratelimit *rl, int64_t key_id, int rate, int burst, int64_t now,
			  int *remaining, int *reset_s)
{
	struct rl_bucket *b = find(rl, key_id, now);
	bool ok;

	if (b->key_id != key_id) {
		b->key_id = key_id;
		b->tokens = burst;
		b->at_ms = now;
	}
	b->tokens += (double)(now - b->at_ms) * rate / 1000.0;
	if (b->tokens > burst)
		b->tokens = burst;
	b->at_ms = now;
	ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	*remaining = (int)b->tokens;
	/* seconds until one more request is allowed (when refused) or the bucket is full */
	*reset_s = ok ? (int)((burst - b->tokens) / rate + 0.999)
		      : (int)((1.0 - b->tokens) / rate + 0.999);
	if (*reset_s < 1 && !ok)
		*reset_s = 1;
	return ok;
}
