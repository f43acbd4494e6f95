/*
 * ratelimit.h - exact sliding-window rate limits (see ratelimit.c).
 */
#ifndef SENDERD_RATELIMIT_H
#define SENDERD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct rl_window {
	int limit;      /* sends per window */
	int window_ms;  /* window length, with the margin */
	int64_t *at;    /* ring of send times (monotonic ms) */
	int count, head;
};

/* rl_init - (re)start a window of limit sends per window_ms; frees an old ring */
void rl_init(struct rl_window *w, int limit, int window_ms);
void rl_free(struct rl_window *w);
/* rl_next_ok - the earliest time (>= now) a send may go */
int64_t rl_next_ok(const struct rl_window *w, int64_t now);
void rl_take(struct rl_window *w, int64_t now);
/* rl_idle - nothing sent within the window: the state may be dropped */
bool rl_idle(const struct rl_window *w, int64_t now);

#endif
