/*
 * flight.h - how many requests the lanes keep in flight (see flight.c).
 */
#ifndef SENDERD_FLIGHT_H
#define SENDERD_FLIGHT_H

#include <stdbool.h>
#include <stdint.h>

enum flight_phase {
	FLIGHT_RUN,     /* caps from the base round trip */
	FLIGHT_DRAIN,   /* a probe: few new requests until those in flight are few */
	FLIGHT_MEASURE, /* a probe: the requests sent since then give the base */
};

/* what an answer changed (flight_answered) */
enum flight_event {
	FLIGHT_SAME,    /* nothing the caller needs to know */
	FLIGHT_LEARNED, /* the first base is known */
	FLIGHT_PROBING, /* round trips grew: a probe starts, the process's cap falls */
	FLIGHT_PROBED,  /* the probe ended with a new base: the process's cap rose */
};

struct flight {
	int lane_max;    /* [senderd] max_inflight: a lane's most, whatever the trip */
	int process_max; /* [senderd] max_connections: the process's most */
	enum flight_phase phase;
	int64_t base;         /* the round trip when nothing queues (ms); -1: not known yet */
	int nlearned;         /* round trips of requests sent alone, before the base */
	int64_t period_end;   /* when the period's shortest round trip is judged */
	int64_t period_min;   /* the shortest round trip of the period */
	int64_t drained_at;   /* a probe's requests are those sent from then on */
	int64_t probe_min;    /* their shortest round trip */
	int probe_n;          /* how many came back */
	unsigned long probes; /* probes made, for the metrics */
};

/* flight_init - nothing learned yet: lanes keep min(lane_max, FLIGHT_START) in flight */
void flight_init(struct flight *f, int lane_max, int process_max);
/* flight_answered - a request sent at `sent`, when `behind` others were in flight,
 * ended at `end` (ms, monotonic), and `inflight` requests are still in flight; on
 * FLIGHT_PROBED the lanes waiting for the process's cap may go on */
enum flight_event flight_answered(struct flight *f, int64_t sent, int64_t end, int behind,
				  int inflight);
/* flight_lane_cap - requests in flight a lane whose bot may send per_second a second
 * needs at the base round trip, with room */
int flight_lane_cap(const struct flight *f, int per_second);
/* flight_process_cap - requests in flight the whole process may have now */
int flight_process_cap(const struct flight *f);

#endif
