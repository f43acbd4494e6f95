/*
 * test_senderd_flight.c - senderd's caps on requests in flight (senderd/flight.c) on a
 * simulated clock: a Telegram that serves one request at a time, a millisecond each
 * (1,000 a second), behind a network of a fixed round trip, and one lane that starts
 * requests as fast as its limit and the caps allow.
 */
#include "senderd/flight.h"
#include "tests/unit/unit.h"

#include <stdint.h>

#define QMAX 4096

/* one lane's requests, answered in the order sent (one server, first come first served) */
struct sim {
	struct flight f;
	int64_t sent[QMAX], answer[QMAX];
	int behind[QMAX];             /* requests in flight when each started */
	int head, tail;               /* requests in flight: [head, tail) */
	int64_t server_free;          /* when the server is done with those it has */
	int64_t net;                  /* the network's round trip, ms */
	int per_second;               /* the lane's limit */
	long started, answered, most; /* requests so far; answers; the most in flight seen */
};

static int inflight(const struct sim *s)
{
	return s->tail - s->head;
}

/* start - a request leaves now: it reaches the server half a network trip later,
 * waits its turn, takes 1 ms, and its answer comes back half a trip after */
static void start(struct sim *s, int64_t now)
{
	int64_t arrive = now + s->net / 2,
		begin = arrive > s->server_free ? arrive : s->server_free;

	s->server_free = begin + 1;
	s->sent[s->tail % QMAX] = now;
	s->behind[s->tail % QMAX] = inflight(s);
	s->answer[s->tail % QMAX] = begin + 1 + s->net - s->net / 2;
	s->tail++;
}

/* step - millisecond now: the answers due, then every start the caps allow */
static void step(struct sim *s, int64_t now)
{
	while (s->head < s->tail && s->answer[s->head % QMAX] <= now) {
		int i = s->head++ % QMAX;

		flight_answered(&s->f, s->sent[i], s->answer[i], s->behind[i], inflight(s));
		s->answered++;
	}
	while (inflight(s) < flight_lane_cap(&s->f, s->per_second) &&
	       inflight(s) < flight_process_cap(&s->f) &&
	       s->started < s->per_second * (now + 1) / 1000) {
		start(s, now);
		s->started++;
	}
	if (inflight(s) > s->most)
		s->most = inflight(s);
}

/* run - from ms `from` to `to`; the answers in that time */
static long run(struct sim *s, int64_t from, int64_t to)
{
	long before = s->answered;

	s->most = 0;
	for (int64_t t = from; t < to; t++)
		step(s, t);
	return s->answered - before;
}

static void sim_init(struct sim *s, int64_t net, int per_second, int lane_max)
{
	*s = (struct sim){ .net = net, .per_second = per_second };
	flight_init(&s->f, lane_max, 1024);
}

/* a saturated server (the lane may send twice its rate): the first base is the first
 * answers' shortest, and the lane keeps what its limit needs at the base, not its
 * max_inflight (64); the queue that still forms makes a probe, which measures with two
 * in flight; the server never waits */
static void test_saturated(void)
{
	static struct sim s;

	sim_init(&s, 0, 2000, 64);
	CHECK(flight_lane_cap(&s.f, 2000) == 32); /* nothing learned: the start cap */
	run(&s, 0, 100);
	CHECK(s.f.base == 1);
	CHECK(flight_lane_cap(&s.f, 2000) == 14); /* 2000/s x 1 ms x 3 + 8 */
	CHECK(run(&s, 100, 30000) >= 29800);
	CHECK(s.f.probes >= 1);
	CHECK(s.f.base == 2);
	CHECK(s.most <= 20);
}

/* far and not saturated: the base is the network's round trip, the lane keeps what
 * its rate needs there (40 in flight: more than the start cap of 32) and never probes */
static void test_far(void)
{
	static struct sim s;

	sim_init(&s, 100, 400, 1000);
	run(&s, 0, 1000);
	CHECK(s.f.base == 101);
	CHECK(flight_lane_cap(&s.f, 400) == 130); /* 400/s x 101 ms x 3 + 8 */
	CHECK(run(&s, 1000, 31000) >= 11950);     /* its limit, not 32 a round trip */
	CHECK(s.f.probes == 0);
}

/* a cap that exceeds what the server can take: the queue grows the round trips, a
 * probe drains it and finds the bare trip again; the caps shrink back */
static void test_probe(void)
{
	static struct sim s;

	sim_init(&s, 0, 2000, 200);
	run(&s, 0, 100);
	s.f.base = 60; /* as if learned while the queue was long: 200 in flight */
	run(&s, 100, 30000);
	CHECK(s.f.probes >= 1);
	CHECK(s.f.base <= 2);
	CHECK(run(&s, 30000, 40000) >= 9950);
	CHECK(s.most <= 20);
}

/* a network that became slower for good: the probe sees it, and the base follows */
static void test_slower(void)
{
	static struct sim s;

	sim_init(&s, 10, 200, 1000);
	run(&s, 0, 1000);
	CHECK(s.f.base == 11);
	s.net = 80;
	run(&s, 1000, 25000);
	CHECK(s.f.probes >= 1);
	CHECK(s.f.base == 81);
	CHECK(flight_lane_cap(&s.f, 200) == 57); /* 200/s x 81 ms x 3 + 8, rounded up */
}

/* the caps: bounded by max_inflight; the process's lowered only while probing */
static void test_caps(void)
{
	struct flight f;

	flight_init(&f, 8, 1024);
	CHECK(flight_lane_cap(&f, 1000) == 8);
	CHECK(flight_process_cap(&f) == 1024);
	f.base = 500;
	CHECK(flight_lane_cap(&f, 30) == 8);
	f.phase = FLIGHT_DRAIN;
	CHECK(flight_process_cap(&f) < 8);
}

int main(void)
{
	test_saturated();
	test_far();
	test_probe();
	test_slower();
	test_caps();
	return unit_done("test_senderd_flight");
}
