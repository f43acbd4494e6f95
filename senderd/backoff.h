/*
 * backoff.h - how long to wait before another attempt (see backoff.c).
 */
#ifndef SENDERD_BACKOFF_H
#define SENDERD_BACKOFF_H

#include <stdint.h>

struct tgm_config;

/*
 * backoff_ms - the wait before attempt attempts + 1: [senderd] retry_base_ms doubled
 * per attempt made, times a jitter in [0.5, 1.5), at most retry_cap_s
 */
int backoff_ms(const struct tgm_config *cfg, int attempts);
/* backoff_jitter - a factor in [0.5, 1.5): xorshift, seeded from the clock */
double backoff_jitter(void);
/* backoff_seed - start the jitter's sequence from seed (tests; 0: from the clock) */
void backoff_seed(uint64_t seed);

#endif
