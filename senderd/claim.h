/*
 * claim.h - the claim groups of senderd's lanes, shared by claim.c (claims) and start.c
 * (starts): the lanes waiting on one of the claim connections go together, one
 * statement for all of them.
 */
#ifndef TGM_SENDERD_CLAIM_H
#define TGM_SENDERD_CLAIM_H

#include "senderd/lane.h"
#include "common/buf.h"

/* most lanes in one claim group: a group's statement stays short */
#define CLAIM_GROUP_MAX 64

/* claim_group - the lanes waiting to claim on one of sd->lane_pgs and those waiting to
 * start there, and whether a group's statement of each kind is in flight (one at a
 * time: the next gathers who came meanwhile). A lane waits in one list at a time (it
 * claims only once started), through lane->cnext. The statements go from ev, at the end
 * of the event loop's round, so that lanes woken together (by a lease round, a commit,
 * the sweep) go in one statement, not the first alone and the others after it. */
struct claim_group {
	struct senderd *sd;
	int pgi;
	struct lane *waiting, **tail;   /* to claim */
	struct lane *starting, **stail; /* to start (load and recover) */
	bool busy, start_busy;
	struct event *ev;
};

/* claim_batch - the lanes of a group's statement in flight, in the order of $1 */
struct claim_batch {
	struct claim_group *g;
	struct lane *lanes[CLAIM_GROUP_MAX];
	int n;
};

/* claim_batch_take - a batch of g's lanes from the list at *head (its tail at *tail), up
 * to CLAIM_GROUP_MAX, in order; their bots as an array text in bots */
struct claim_batch *claim_batch_take(struct claim_group *g, struct lane **head, struct lane ***tail,
				     struct tgm_buf *bots);
/* claim_group_kick - the group's statements go at the end of this round of the event
 * loop */
void claim_group_kick(struct claim_group *g);
/* start_send - one statement starts every lane waiting on the group's connection
 * (start.c) */
void start_send(struct claim_group *g);

#endif
