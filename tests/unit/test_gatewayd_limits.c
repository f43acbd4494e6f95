/*
 * test_gatewayd_limits.c - gatewayd's per-key token bucket (gatewayd/ratelimit.c) on a
 * simulated clock: the burst, the refill rate, the headers' numbers, and keys apart.
 */
#include "gatewayd/gatewayd.h"
#include "tests/unit/unit.h"

static void test_burst_then_rate(void)
{
	struct gw_ratelimit *rl = gw_ratelimit_new();
	int rem = -1, reset = -1;

	/* burst 5 at 2 per second: five at once, the sixth refused */
	for (int i = 0; i < 5; i++) {
		CHECK(gw_ratelimit_take_at(rl, 1, 2, 5, 1000, &rem, &reset));
		CHECK(rem == 4 - i);
	}
	CHECK(rem == 0 && reset == 3); /* 5 tokens at 2/s: full in 2.5 s, rounded up */
	CHECK(!gw_ratelimit_take_at(rl, 1, 2, 5, 1000, &rem, &reset));
	CHECK(rem == 0 && reset == 1);
	/* half a second gives one token back, no more */
	CHECK(!gw_ratelimit_take_at(rl, 1, 2, 5, 1499, &rem, &reset));
	CHECK(gw_ratelimit_take_at(rl, 1, 2, 5, 1500, &rem, &reset));
	CHECK(!gw_ratelimit_take_at(rl, 1, 2, 5, 1500, &rem, &reset));
	/* over a long pause the bucket fills to the burst, not beyond */
	CHECK(gw_ratelimit_take_at(rl, 1, 2, 5, 100000, &rem, &reset));
	CHECK(rem == 4 && reset == 1);
	gw_ratelimit_free(rl);
}

/* test_rate_over_time - at a steady overload, what passes is the rate */
static void test_rate_over_time(void)
{
	struct gw_ratelimit *rl = gw_ratelimit_new();
	int rem, reset, ok = 0;

	for (int64_t t = 0; t < 10000; t += 10) /* 100 requests a second for 10 s */
		ok += gw_ratelimit_take_at(rl, 9, 20, 10, t, &rem, &reset);
	CHECK(ok >= 10 + 20 * 10 - 2 && ok <= 10 + 20 * 10);
	gw_ratelimit_free(rl);
}

static void test_keys_apart(void)
{
	struct gw_ratelimit *rl = gw_ratelimit_new();
	int rem, reset;

	CHECK(gw_ratelimit_take_at(rl, 1, 1, 1, 0, &rem, &reset));
	CHECK(!gw_ratelimit_take_at(rl, 1, 1, 1, 0, &rem, &reset));
	CHECK(gw_ratelimit_take_at(rl, 2, 1, 1, 0, &rem, &reset));
	CHECK(gw_ratelimit_take_at(rl, -1, 1, 1, 0, &rem, &reset)); /* a session's account */
	/* many keys: each still gets its own burst */
	for (int64_t k = 100; k < 5100; k++)
		if (!gw_ratelimit_take_at(rl, k, 1, 1, 0, &rem, &reset)) {
			CHECK(!"a new key was refused");
			break;
		}
	gw_ratelimit_free(rl);
}

int main(void)
{
	test_burst_then_rate();
	test_rate_over_time();
	test_keys_apart();
	return unit_done("gatewayd_limits");
}
