/*
 * ratelimit.h - exact sliding-window rate limits (see ratelimit.c).
 */
#ifndef SENDERD_RATELIMIT_H
#define SENDERD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct rl_window {
	int limit;       /* requests per window */
	int window_ms;   /* window length, with the margin */
	int64_t *at;     /* per slot: the latest time its request may have been counted */
	int64_t *start;  /* per slot: when its request was sent (monotonic ms) */
	bool *unlearned; /* per slot: answered before round trips were learned, so `at` is
			  * its answer; counted from its start once they are (rl_next_ok) */
	int head;        /* the slot of the earliest start: the next request takes it */
	double gap;      /* smoothing: ms between starts (0: none), see rl_smooth */
	double slack;    /* smoothing: how far starts may run ahead of tat */
	double tat;      /* smoothing: when the next start is due at the smooth pace */
};

/* rl_init - (re)start a window of limit requests per window_ms; frees an old one */
void rl_init(struct rl_window *w, int limit, int window_ms);
/* rl_smooth - also spread starts over the window instead of bursting the whole limit */
void rl_smooth(struct rl_window *w);
void rl_free(struct rl_window *w);
/* rl_next_ok - the earliest time (>= now) a request may start */
int64_t rl_next_ok(const struct rl_window *w, int64_t now);
/* rl_take - a request starts now; returns its slot for rl_done */
int rl_take(struct rl_window *w, int64_t now);
/* rl_done - the request of slot, sent at start, was answered at end: when the answer's
 * first bytes came (the server had the request by then), else when it ended */
void rl_done(struct rl_window *w, int slot, int64_t start, int64_t end);
/* rl_idle - nothing within the window: the state may be dropped */
bool rl_idle(const struct rl_window *w, int64_t now);
/* rl_observe - a round trip to Telegram took rtt_ms (answers with a status only) */
void rl_observe(int64_t rtt_ms);
/* rl_spread - how uncertain a request's arrival is, from the round trips seen; -1:
 * not known (too few, or erratic): requests count until their answer */
int64_t rl_spread(void);

#endif
