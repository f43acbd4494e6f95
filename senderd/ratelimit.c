/*
 * ratelimit.c - sliding-window limits: at most `limit` requests in any window of
 * `window_ms`, as Telegram counts them: by when each request reaches it.
 * The last `limit` requests are kept in a ring: the next one replaces the earliest
 * started and may start once that one's time is a window ago (those before it were
 * checked the same way when they replaced theirs).
 *
 * senderd does not see that moment, only that it lies between the request's start
 * and its answer: the moment the answer's first bytes came back (the server had the
 * request by then; a body held back after the head adds nothing).
 * Counting a request at its answer is always safe but costs a round trip per window
 * (0.9 of the limit at 100 ms). Pacing from the starts is as safe
 * when the time a request takes to arrive varies little: the shortest round trip
 * seen lately (the last 64, of any lane: rl_observe) is about the least a request
 * takes both ways, so a request whose round trip was `extra` longer reached Telegram
 * at most `extra` later than the quickest would have, and counts at start + extra
 * (the next one cannot arrive sooner after its own start than the quickest). When the
 * network is erratic (the 90th percentile of the round trips is twice their minimum
 * or more) or too few were seen, a request counts at its answer: today's strict
 * spacing. One answered while too few were seen counts from its start plus its excess
 * once steady round trips are learned (slot_at), so a lane's first window does not
 * shift every later one by a round trip. A request not answered yet counts at
 * start + spread.
 *
 * rl_smooth adds a pace under the window (GCRA: one start every 0.9 x window/limit,
 * a small burst allowed), so that a lane at its limit spreads its sends over the
 * window instead of spending it in one burst: a message that comes in the middle
 * (a reply during a broadcast) then waits a send's gap, not the rest of the window.
 */
#include "senderd/ratelimit.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RL_MARGIN_MS 10
#define RL_LONG_AGO (INT64_MIN / 4)
#define RL_SMOOTH 0.9    /* the smooth pace: this much of window/limit per start */
#define RL_SLACK_MS 10.0 /* bursts allowed ahead of the smooth pace, at least */
#define RTT_SAMPLES 64   /* round trips the spread is learned from */
/* round trips seen before any can say the network is steady: with 8, a jittery one (each
 * way 50-250 ms) often looked steady, its first few round trips all within less than
 * their shortest of each other, and a request now and then went early (a 429 in about
 * one run in four of test_pacing_never_exceeds_telegrams_limits[jittery] under ASan) */
#define RTT_MIN_SAMPLES 32

/* the round trips seen lately, for all lanes (they share one Telegram) */
static struct {
	int64_t rtt[RTT_SAMPLES];
	int n, next, fresh;
	int64_t lo;     /* min of rtt[] */
	int64_t spread; /* 90th percentile of rtt[] - lo; -1: too few samples, or erratic
			 * (the spread as large as the shortest round trip) */
} rtts = { .spread = -1 };

/* cmp_i64 - qsort's ascending order of round trips */
static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* learn - the spread and bounds of the samples (sorted a copy every few samples) */
static void learn(void)
{
	int64_t s[RTT_SAMPLES];

	memcpy(s, rtts.rtt, (size_t)rtts.n * sizeof(*s));
	qsort(s, (size_t)rtts.n, sizeof(*s), cmp_i64);
	rtts.lo = s[0];
	rtts.spread = s[rtts.n * 9 / 10] - s[0];
	if (rtts.n < RTT_MIN_SAMPLES || rtts.spread >= rtts.lo) /* too few, or erratic */
		rtts.spread = -1;
}

void rl_observe(int64_t rtt_ms)
{
	rtts.rtt[rtts.next] = rtt_ms;
	rtts.next = (rtts.next + 1) % RTT_SAMPLES;
	if (rtts.n < RTT_SAMPLES)
		rtts.n++;
	if (rtts.n < RTT_SAMPLES || ++rtts.fresh >= RTT_SAMPLES / 8) {
		rtts.fresh = 0;
		learn();
	} else if (rtt_ms < rtts.lo) {
		rtts.lo = rtt_ms;
	}
}

int64_t rl_spread(void)
{
	return rtts.spread;
}

void rl_init(struct rl_window *w, int limit, int window_ms)
{
	rl_free(w);
	w->limit = limit > 0 ? limit : 1;
	w->window_ms = window_ms + RL_MARGIN_MS;
	w->at = tgm_xmalloc((size_t)w->limit * sizeof(*w->at));
	w->start = tgm_xmalloc((size_t)w->limit * sizeof(*w->start));
	w->unlearned = tgm_xcalloc((size_t)w->limit, sizeof(*w->unlearned));
	for (int i = 0; i < w->limit; i++)
		w->at[i] = w->start[i] = RL_LONG_AGO;
	w->gap = w->slack = w->tat = 0;
	w->head = 0;
}

void rl_smooth(struct rl_window *w)
{
	w->gap = RL_SMOOTH * (double)(w->window_ms - RL_MARGIN_MS) / w->limit;
	w->slack = 2 * w->gap > RL_SLACK_MS ? 2 * w->gap : RL_SLACK_MS;
}

void rl_free(struct rl_window *w)
{
	free(w->at);
	free(w->start);
	free(w->unlearned);
	w->at = w->start = NULL;
	w->unlearned = NULL;
}

/* slot_at - the latest time the request of slot may have been counted: at, or for one
 * answered before round trips were learned and now that they are, its start plus its
 * round trip's excess over the shortest (as rl_done counts those answered later) */
static int64_t slot_at(const struct rl_window *w, int slot)
{
	int64_t at = w->at[slot];

	if (w->unlearned[slot] && rtts.spread >= 0) {
		at -= rtts.lo;
		if (at < w->start[slot])
			at = w->start[slot];
	}
	return at;
}

int64_t rl_next_ok(const struct rl_window *w, int64_t now)
{
	int64_t t = slot_at(w, w->head) + w->window_ms;

	if (w->gap > 0) {
		int64_t s = (int64_t)ceil(w->tat - w->slack);

		t = s > t ? s : t;
	}
	return t > now ? t : now;
}

int rl_take(struct rl_window *w, int64_t now)
{
	int o = w->head;
	int64_t spread = rl_spread();

	w->head = (o + 1) % w->limit;
	w->start[o] = now;
	w->at[o] = now + (spread > 0 ? spread : 0);
	w->unlearned[o] = false;
	if (w->gap > 0)
		w->tat = (w->tat > (double)now ? w->tat : (double)now) + w->gap;
	return o;
}

void rl_done(struct rl_window *w, int slot, int64_t start, int64_t end)
{
	int64_t at = end, extra = end - start - rtts.lo;

	if (w->at == NULL || slot < 0 || slot >= w->limit)
		return;
	if (rl_spread() >= 0) /* steady: it arrived at most its extra round trip late */
		at = start + (extra > 0 ? extra : 0);
	if (w->start[slot] == start) { /* still this request's slot */
		w->at[slot] = at;
		w->unlearned[slot] = rtts.n < RTT_MIN_SAMPLES;
	} else if (slot_at(w, slot) < at) { /* reused meanwhile: keep the later bound */
		w->at[slot] = at;
		w->unlearned[slot] = false;
	}
}

bool rl_idle(const struct rl_window *w, int64_t now)
{
	for (int i = 0; i < w->limit; i++)
		if (w->at[i] + w->window_ms > now)
			return false;
	return true;
}
