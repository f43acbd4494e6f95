/*
 * ratelimit.h - exact sliding-window rate limits (see ratelimit.c).
 */
#ifndef SENDERD_RATELIMIT_H
#define SENDERD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct rl_window {
	int limit;     /* requests per window */
	int window_ms; /* window length, with the margin */
	int64_t *at;   /* the times of the last `limit` requests (monotonic ms) */
};

/* rl_init - (re)start a window of limit requests per window_ms; frees an old one */
void rl_init(struct rl_window *w, int limit, int window_ms);
void rl_free(struct rl_window *w);
/* rl_next_ok - the earliest time (>= now) a request may start */
int64_t rl_next_ok(const struct rl_window *w, int64_t now);
/* rl_take - a request starts now; returns its slot for rl_done */
int rl_take(struct rl_window *w, int64_t now);
/* rl_done - the request of slot was answered now */
void rl_done(struct rl_window *w, int slot, int64_t now);
/* rl_idle - nothing within the window: the state may be dropped */
bool rl_idle(const struct rl_window *w, int64_t now);

#endif
