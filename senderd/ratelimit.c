/*
 * ratelimit.c - sliding-window limits: at most `limit` requests in any window of
 * `window_ms`, kept exactly as the times of the last `limit` requests.
 *
 * A request's time is first its start and then, once answered, its answer: Telegram
 * received it somewhere in between, so spacing the next request from the answer
 * keeps the limit as Telegram counts it, whatever the network did to the request on
 * its way (a token bucket would also let twice the limit through across a window's
 * edge). A small margin covers the clocks' granularity.
 */
#include "senderd/ratelimit.h"
#include "common/util.h"

#include <stdlib.h>

#define RL_MARGIN_MS 10
#define RL_LONG_AGO (INT64_MIN / 4)

void rl_init(struct rl_window *w, int limit, int window_ms)
{
	free(w->at);
	w->limit = limit > 0 ? limit : 1;
	w->window_ms = window_ms + RL_MARGIN_MS;
	w->at = tgm_xmalloc((size_t)w->limit * sizeof(*w->at));
	for (int i = 0; i < w->limit; i++)
		w->at[i] = RL_LONG_AGO;
}

void rl_free(struct rl_window *w)
{
	free(w->at);
	w->at = NULL;
}

/* oldest - the slot whose time is the earliest: the one the next request replaces */
static int oldest(const struct rl_window *w)
{
	int o = 0;

	for (int i = 1; i < w->limit; i++)
		if (w->at[i] < w->at[o])
			o = i;
	return o;
}

int64_t rl_next_ok(const struct rl_window *w, int64_t now)
{
	int64_t t = w->at[oldest(w)] + w->window_ms;

	return t > now ? t : now;
}

int rl_take(struct rl_window *w, int64_t now)
{
	int o = oldest(w);

	w->at[o] = now;
	return o;
}

void rl_done(struct rl_window *w, int slot, int64_t now)
{
	if (w->at && slot >= 0 && slot < w->limit && w->at[slot] < now)
		w->at[slot] = now;
}

bool rl_idle(const struct rl_window *w, int64_t now)
{
	for (int i = 0; i < w->limit; i++)
		if (w->at[i] + w->window_ms > now)
			return false;
	return true;
}
