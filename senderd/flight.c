/*
 * flight.c - how many requests the lanes keep in flight: what each bot's rate needs
 * at the round trip Telegram takes when nothing queues (in flight = rate x round
 * trip, times FLIGHT_GAIN, plus FLIGHT_ROOM), bounded by [senderd] max_inflight a lane
 * and max_connections the process.
 *
 * A fixed cap is wrong both ways: far from Telegram a fast bot needs more in flight
 * than any small cap, and when the process (or Telegram) is saturated, lanes that may
 * send faster than it can keep every request they may in flight, and each only waits
 * longer in the queues: the same rate at more CPU and memory a message.
 *
 * The base round trip is the shortest seen. While requests queue, every round trip
 * grows with the number in flight, so the shortest of a busy period says nothing of
 * the distance. When a period's (FLIGHT_PERIOD_MS) shortest is clearly longer than the
 * base, the process probes, as BBR does: it lets at most FLIGHT_PROBE_CAP requests be
 * in flight until those in flight are that few, and the shortest round trip of the
 * next FLIGHT_PROBE_SAMPLES requests becomes the base. A network that really became
 * slower gives the probe long round trips too, and the base follows it. A probe costs
 * a round trip or two of a slower pace every period, and only while round trips grow.
 * The first base is the shortest round trip of the first FLIGHT_LEARN requests sent
 * while fewer than FLIGHT_PROBE_CAP were in flight (the process's first ones are: the
 * rest of a start's burst queue behind them), and it is judged after FLIGHT_FIRST_MS
 * already.
 * Pure logic on the times it is given: tests/unit/test_senderd_flight.c.
 */
#include "senderd/flight.h"

#define FLIGHT_START 32          /* a lane's cap until the base is known */
#define FLIGHT_LEARN 2           /* round trips the first base is the shortest of */
#define FLIGHT_GAIN 3            /* room for round trips longer than the base */
#define FLIGHT_ROOM 8            /* and for bursts, and answers held back at times */
#define FLIGHT_PERIOD_MS 10000   /* how often the base is judged */
#define FLIGHT_FIRST_MS 1000     /* the first time: the first base came from a burst */
#define FLIGHT_PROBE_CAP 2       /* requests in flight while probing */
#define FLIGHT_PROBE_SAMPLES 6   /* round trips a probe measures */
#define FLIGHT_PROBE_MAX_MS 1000 /* a probe that saw one ends after this long */
#define FLIGHT_NONE INT64_MAX

void flight_init(struct flight *f, int lane_max, int process_max)
{
	*f = (struct flight){ .lane_max = lane_max,
			      .process_max = process_max,
			      .phase = FLIGHT_RUN,
			      .base = -1,
			      .period_min = FLIGHT_NONE };
}

/* period_restart - a new period of judging the base starts at now */
static void period_restart(struct flight *f, int64_t now)
{
	f->phase = FLIGHT_RUN;
	f->period_end = now + FLIGHT_PERIOD_MS;
	f->period_min = FLIGHT_NONE;
}

/* learn - the first round trips of requests sent (almost) alone: the shortest of
 * FLIGHT_LEARN is the first base */
static enum flight_event learn(struct flight *f, int64_t rtt, int behind, int64_t now)
{
	if (behind >= FLIGHT_PROBE_CAP)
		return FLIGHT_SAME;
	if (f->period_min > rtt)
		f->period_min = rtt;
	if (++f->nlearned < FLIGHT_LEARN)
		return FLIGHT_SAME;
	f->base = f->period_min;
	period_restart(f, now);
	f->period_end = now + FLIGHT_FIRST_MS;
	return FLIGHT_LEARNED;
}

/* grown - round trips of the period clearly longer than the base: queues, or distance */
static bool grown(const struct flight *f)
{
	int64_t slack = f->base / 4 > 2 ? f->base / 4 : 2;

	return f->period_min != FLIGHT_NONE && f->period_min > f->base + slack;
}

/* run - a round trip at the base's caps: a shorter one is the base at once; a period
 * whose shortest grew starts a probe */
static enum flight_event run(struct flight *f, int64_t rtt, int64_t now)
{
	if (rtt < f->base)
		f->base = rtt;
	if (rtt < f->period_min)
		f->period_min = rtt;
	if (now < f->period_end)
		return FLIGHT_SAME;
	if (!grown(f)) {
		period_restart(f, now);
		return FLIGHT_SAME;
	}
	f->phase = FLIGHT_DRAIN;
	f->probes++;
	return FLIGHT_PROBING;
}

/* measure - a probe's round trip (sent once few were in flight); FLIGHT_PROBED when it ends */
static enum flight_event measure(struct flight *f, int64_t sent, int64_t rtt, int64_t now)
{
	if (sent < f->drained_at)
		return FLIGHT_SAME;
	if (rtt < f->probe_min)
		f->probe_min = rtt;
	if (++f->probe_n < FLIGHT_PROBE_SAMPLES && now - f->drained_at < FLIGHT_PROBE_MAX_MS)
		return FLIGHT_SAME;
	f->base = f->probe_min;
	period_restart(f, now);
	return FLIGHT_PROBED;
}

enum flight_event flight_answered(struct flight *f, int64_t sent, int64_t end, int behind,
				  int inflight)
{
	int64_t rtt = end > sent ? end - sent : 0;

	if (f->base < 0)
		return learn(f, rtt, behind, end);
	switch (f->phase) {
	case FLIGHT_RUN:
		return run(f, rtt, end);
	case FLIGHT_DRAIN:
		if (inflight > FLIGHT_PROBE_CAP)
			return FLIGHT_SAME;
		f->phase = FLIGHT_MEASURE;
		f->drained_at = end;
		f->probe_min = FLIGHT_NONE;
		f->probe_n = 0;
		return FLIGHT_SAME;
	case FLIGHT_MEASURE:
		return measure(f, sent, rtt, end);
	}
	return FLIGHT_SAME;
}

int flight_lane_cap(const struct flight *f, int per_second)
{
	int64_t need;

	if (f->base < 0)
		return f->lane_max < FLIGHT_START ? f->lane_max : FLIGHT_START;
	need = ((int64_t)per_second * f->base * FLIGHT_GAIN + 999) / 1000 + FLIGHT_ROOM;
	return need < f->lane_max ? (int)need : f->lane_max;
}

int flight_process_cap(const struct flight *f)
{
	return f->phase == FLIGHT_RUN ? f->process_max : FLIGHT_PROBE_CAP;
}
