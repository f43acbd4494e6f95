/*
 * ratelimit.c - sliding-window limits: at most `limit` sends in any window of
 * `window_ms`, kept exactly as a ring of the last `limit` send times (a token bucket
 * would let twice the limit through across a window's edge). A margin is added to
 * every window so that network jitter cannot squeeze sends together on arrival.
 */
#include "senderd/ratelimit.h"
#include "common/util.h"

#include <stdlib.h>

#define RL_MARGIN_MS 50

void rl_init(struct rl_window *w, int limit, int window_ms)
{
	free(w->at);
	w->limit = limit > 0 ? limit : 1;
	w->window_ms = window_ms + RL_MARGIN_MS;
	w->at = tgm_xcalloc((size_t)w->limit, sizeof(*w->at));
	w->count = 0;
	w->head = 0;
}

void rl_free(struct rl_window *w)
{
	free(w->at);
	w->at = NULL;
}

int64_t rl_next_ok(const struct rl_window *w, int64_t now)
{
	int64_t oldest;

	if (w->count < w->limit)
		return now;
	oldest = w->at[w->head]; /* the ring is full: head is the oldest */
	return oldest + w->window_ms > now ? oldest + w->window_ms : now;
}

void rl_take(struct rl_window *w, int64_t now)
{
	if (w->count < w->limit) {
		w->at[(w->head + w->count) % w->limit] = now;
		w->count++;
		return;
	}
	w->at[w->head] = now;
	w->head = (w->head + 1) % w->limit;
}

bool rl_idle(const struct rl_window *w, int64_t now)
{
	return w->count == 0 || w->at[(w->head + w->count - 1) % w->limit] + w->window_ms <= now;
}
