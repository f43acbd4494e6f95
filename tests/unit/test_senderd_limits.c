/*
 * test_senderd_limits.c - senderd's pure pacing logic on a simulated clock: the
 * sliding-window limits (senderd/ratelimit.c), strict and learned from round trips,
 * the smooth pace, and the retry backoff with its jitter (senderd/backoff.c).
 */
#include "senderd/backoff.h"
#include "senderd/ratelimit.h"
#include "common/config.h"
#include "tests/unit/unit.h"

#define LIMIT 5
#define WINDOW 1000
#define RUNS 60

/* run - RUNS requests, each started as soon as w allows and answered rtt ms later
 * (before the next starts); the start times into starts[] */
static void run(struct rl_window *w, int64_t rtt, int64_t *starts)
{
	int64_t now = 0;

	for (int i = 0; i < RUNS; i++) {
		int slot;

		now = rl_next_ok(w, now);
		starts[i] = now;
		slot = rl_take(w, now);
		rl_done(w, slot, now, now + rtt);
	}
}

/* window_holds - with requests reaching Telegram halfway through their round trip, no
 * window of WINDOW ms ever holds more than LIMIT of them */
static int window_holds(const int64_t *starts, int64_t rtt)
{
	for (int i = 0; i + LIMIT < RUNS; i++)
		if ((starts[i + LIMIT] + rtt / 2) - (starts[i] + rtt / 2) <= WINDOW)
			return 0;
	return 1;
}

static void test_fresh_window(void)
{
	struct rl_window w = { 0 };

	rl_init(&w, LIMIT, WINDOW);
	CHECK(rl_next_ok(&w, 0) == 0);
	CHECK(rl_next_ok(&w, 12345) == 12345);
	CHECK(rl_idle(&w, 0));
	rl_free(&w);
	rl_init(&w, 0, WINDOW); /* a limit of 0 means 1 */
	CHECK(w.limit == 1);
	rl_free(&w);
}

/* test_strict - round trips not learned yet: a request counts until its answer */
static void test_strict(void)
{
	struct rl_window w = { 0 };
	int64_t starts[RUNS];
	int slots[LIMIT];

	CHECK(rl_spread() == -1);
	rl_init(&w, LIMIT, WINDOW);
	for (int i = 0; i < LIMIT; i++) {
		CHECK(rl_next_ok(&w, 0) == 0);
		slots[i] = rl_take(&w, 0);
	}
	/* none answered: the window runs from their starts (and the margin) */
	CHECK(rl_next_ok(&w, 0) == WINDOW + 10);
	rl_done(&w, slots[0], 0, 200);
	CHECK(rl_next_ok(&w, 0) == 200 + WINDOW + 10);
	CHECK(!rl_idle(&w, 200 + WINDOW + 9));
	for (int i = 1; i < LIMIT; i++)
		rl_done(&w, slots[i], 0, 100);
	CHECK(rl_idle(&w, 200 + WINDOW + 10));
	rl_free(&w);

	rl_init(&w, LIMIT, WINDOW);
	run(&w, 80, starts);
	CHECK(window_holds(starts, 80));
	/* the answer is the bound: each window costs a round trip */
	CHECK(starts[LIMIT] - starts[0] == 80 + WINDOW + 10);
	rl_free(&w);
}

/*
 * test_learned_later - requests answered before round trips were learned count at their
 * answers; once a steady round trip is learned they count from their starts plus their
 * excess (as later ones do), so a lane's first window costs no round trip for good; an
 * erratic network puts them back at their answers.
 */
static void test_learned_later(void)
{
	struct rl_window w = { 0 };
	int slots[LIMIT];

	CHECK(rl_spread() == -1);
	rl_init(&w, LIMIT, WINDOW);
	for (int i = 0; i < LIMIT; i++)
		slots[i] = rl_take(&w, i);
	for (int i = 0; i < LIMIT; i++)
		rl_done(&w, slots[i], i, i + 100 + (i == 0 ? 30 : 0)); /* the first 30 ms late */
	CHECK(rl_next_ok(&w, 0) == 130 + WINDOW + 10);
	for (int i = 0; i < 31; i++) /* 32 samples with the one below: learned */
		rl_observe(100 + i % 2);
	CHECK(rl_spread() == -1); /* rl_done observes nothing: 31 samples so far */
	rl_observe(100);
	CHECK(rl_spread() >= 0 && rl_spread() <= 1);
	/* now from its start plus the 30 ms its round trip took over the shortest */
	CHECK(rl_next_ok(&w, 0) == 30 + WINDOW + 10);
	CHECK(rl_idle(&w, 130 + WINDOW + 10) && !rl_idle(&w, 129 + WINDOW + 10));
	/* a slot taken again is judged afresh */
	rl_done(&w, rl_take(&w, 2000), 2000, 2100);
	CHECK(!w.unlearned[slots[0]]);
	/* erratic again: answers bound them */
	for (int i = 0; i < 64; i++)
		rl_observe(i % 2 ? 20 : 200);
	CHECK(rl_spread() == -1);
	CHECK(rl_next_ok(&w, 0) == 1 + 100 + WINDOW + 10);
	rl_free(&w);
}

/* test_erratic - round trips that vary as much as they last teach nothing */
static void test_erratic(void)
{
	for (int i = 0; i < 64; i++)
		rl_observe(i % 2 ? 20 : 200);
	CHECK(rl_spread() == -1);
}

/* test_steady - steady round trips: requests count from their starts, safely */
static void test_steady(void)
{
	struct rl_window w = { 0 };
	int64_t starts[RUNS];

	for (int i = 0; i < 128; i++) /* twice the samples kept: the erratic ones are gone */
		rl_observe(80 + i % 3);
	CHECK(rl_spread() >= 0 && rl_spread() <= 2);
	rl_init(&w, LIMIT, WINDOW);
	run(&w, 80, starts);
	CHECK(window_holds(starts, 80));
	/* no round trip lost per window any more */
	CHECK(starts[LIMIT] - starts[0] <= WINDOW + 10 + 2);
	rl_free(&w);
	/* a slow answer (a late arrival) pushes its slot's bound by the extra time */
	rl_init(&w, 1, WINDOW);
	rl_done(&w, rl_take(&w, 0), 0, 80 + 300);
	CHECK(rl_next_ok(&w, 0) >= 300 + WINDOW);
	rl_free(&w);
}

/* test_smooth - a paced window bursts a little, then starts every 0.9 x window/limit */
static void test_smooth(void)
{
	struct rl_window w = { 0 };
	int64_t now = 0, starts[40];

	rl_init(&w, 20, WINDOW);
	rl_smooth(&w);
	for (int i = 0; i < 40; i++) {
		now = rl_next_ok(&w, now);
		starts[i] = now;
		rl_done(&w, rl_take(&w, now), now, now + 80);
	}
	CHECK(starts[0] == 0 && starts[1] == 0 && starts[2] == 0);
	for (int i = 4; i < 20; i++)
		CHECK(starts[i] - starts[i - 1] == 45);
	/* and the window still bounds it: 20 starts never within one window */
	for (int i = 0; i + 20 < 40; i++)
		CHECK(starts[i + 20] - starts[i] > WINDOW);
	rl_free(&w);
}

static void test_backoff(void)
{
	struct tgm_config cfg = { 0 };
	double lo = 2, hi = 0;

	cfg.senderd.retry_base_ms = 100;
	cfg.senderd.retry_cap_s = 60;
	backoff_seed(12345);
	for (int i = 0; i < 10000; i++) {
		double j = backoff_jitter();

		lo = j < lo ? j : lo;
		hi = j > hi ? j : hi;
	}
	CHECK(lo >= 0.5 && lo < 0.51);
	CHECK(hi < 1.5 && hi > 1.49);
	/* the same seed gives the same sequence */
	backoff_seed(7);
	int a = backoff_ms(&cfg, 3);
	backoff_seed(7);
	CHECK(backoff_ms(&cfg, 3) == a);
	/* doubled per attempt made, within the jitter */
	for (int att = 1; att <= 8; att++) {
		int base = 100 << (att - 1);

		for (int i = 0; i < 200; i++) {
			int ms = backoff_ms(&cfg, att);

			if (!(ms >= base / 2 && ms < base * 3 / 2)) {
				CHECK(ms >= base / 2 && ms < base * 3 / 2);
				break;
			}
		}
	}
	/* capped, however many attempts */
	for (int i = 0; i < 200; i++)
		if (backoff_ms(&cfg, 30 + i) > 60000) {
			CHECK(!"backoff over the cap");
			break;
		}
	CHECK(backoff_ms(&cfg, 1000) <= 60000 && backoff_ms(&cfg, 1000) >= 30000);
	backoff_seed(0);
}

int main(void)
{
	test_fresh_window();
	test_strict();
	test_learned_later();
	test_erratic();
	test_steady();
	test_smooth();
	test_backoff();
	return unit_done("senderd_limits");
}
