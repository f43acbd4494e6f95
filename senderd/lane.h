/*
 * lane.h - one bot's sending lane, read by lane.c (scheduling), claim.c (taking
 * messages from the database) and deliver.c (sending them and judging the answer);
 * written by lane.c alone, through the named functions below.
 */
#ifndef SENDERD_LANE_H
#define SENDERD_LANE_H

#include "senderd/ratelimit.h"
#include "senderd/senderd.h"

#include <stdbool.h>
#include <stdint.h>

/* pending - a claimed message (status 'sending' in the database) waiting to go out */
struct pending {
	struct pending *next;
	int64_t id;
	char *chat; /* the chat key: "123" or "@name" */
	char *method;
	char *params; /* JSON object text */
	int priority;
	int attempts;
	int64_t expires_at;     /* monotonic ms after which it must not go out; 0: never */
	struct chat_slot *slot; /* its chat, from the start of its request to its end */
	int bot_slot, gap_slot, minute_slot; /* its places in the rate windows */
	int64_t sent_ms;                     /* when its request started (monotonic ms) */
	int sent_behind;                     /* requests of the process in flight then */
	bool botapi; /* sent through the Bot API endpoint: keep Telegram's answer */
	bool files;  /* with uploaded files (botapi_files): sent as multipart */
};

/* chat_slot - what the lane knows of one chat: its limits and whether it is busy */
struct chat_slot {
	struct chat_slot *next; /* hash chain */
	unsigned hash;          /* of chat: its bucket, and a quick mismatch */
	char *chat;
	bool group; /* a group or channel: per-minute limit */
	bool busy;  /* a request to this chat is in flight: keeps order */
	int64_t suspended_until;
	struct rl_window gap;    /* chat_per_second per second */
	struct rl_window minute; /* group_per_minute per minute (groups only) */
};

/*
 * A lane's life: one of these at a time.
 *
 *   LANE_LOADING  its bot is being read and what a previous owner left in 'sending'
 *                 resolved; nothing is claimed or sent yet
 *   LANE_READY    claiming and sending as far as the limits allow
 *   LANE_DEAD     Telegram refused the token (the bot is disabled) or the lane could
 *                 not start: nothing more is claimed or sent
 */
enum lane_state {
	LANE_LOADING,
	LANE_READY,
	LANE_DEAD,
};

/*
 * A lane's sub-states: what it is waiting for or owes, besides its life. They are bits
 * of lane->sub because they overlap: a claim, a mark and a reload may be in flight at
 * once (in order, on the lane's connection), and a dropping lane still waits for them.
 * Only lane.c sets or clears them, through the functions below.
 *
 *   LANE_DROPPING   the lease is gone (or the lane could not start): what waits is given
 *                   back, what is in flight finishes, then the lane is freed
 *   LANE_CLAIMING   a claim is in flight (one at a time)
 *   LANE_MARKING    a mark of sends about to start is in flight ([senderd] ambiguous =
 *                   fail; one at a time)
 *   LANE_RELOADING  the bot's limits are being read again (one at a time)
 *   LANE_MORE       the last claim got all it asked for, or walked on chat by chat and
 *                   found nothing (chats not reached yet may have heads): claim again
 *                   once half the buffer is gone (lane_buffer_cap)
 *   LANE_WAKE       something may have fallen due (a doorbell, a commit, a retry, the
 *                   sweep): claim at the next pump
 *   LANE_HELD       the last claim passed over due messages (behind an earlier one of
 *                   their chat still open, or locked): a commit of the bot's transitions
 *                   may free them, so it wakes the lane (lane_recorded); without it a
 *                   commit wakes nothing, and a claim finding nothing is saved
 *   LANE_ORPHANS    a claim's outcome is unknown (its connection broke before the
 *                   answer): rows it may have claimed wait in 'sending', unknown to the
 *                   lane. It claims nothing more; once it holds nothing, sends nothing
 *                   and has no transition left unrecorded, it sends this bot's rows in
 *                   'sending' back (start_orphans, as on a lease start) and goes on
 */
enum lane_sub {
	LANE_DROPPING = 1 << 0,
	LANE_CLAIMING = 1 << 1,
	LANE_MARKING = 1 << 2,
	LANE_RELOADING = 1 << 3,
	LANE_MORE = 1 << 4,
	LANE_WAKE = 1 << 5,
	LANE_ORPHANS = 1 << 6,
	LANE_HELD = 1 << 7,
};

/* the sub-states that are queries in flight: a dropping lane waits for them */
#define LANE_QUERYING (LANE_CLAIMING | LANE_MARKING | LANE_RELOADING)

/* lane_limits - a bot's sending limits, as its settings say */
struct lane_limits {
	int per_second, chat_per_second, group_per_minute;
	bool paid_broadcast;
};

#define LANE_CHAT_BUCKETS 256 /* at first: doubled while chats outnumber them twice */

struct lane {
	struct lane *hnext; /* senderd's hash chain */
	struct lane *wnext; /* senderd's waiting list (the process-wide cap) */
	bool waiting;
	struct senderd *sd;
	struct tgm_pg *pg;  /* one of sd->lane_pgs: the lane's queries stay in order */
	int pgi;            /* its index there, and of its claim group (claim.c) */
	struct lane *cnext; /* its claim group's waiting list */
	int64_t bot_id;
	unsigned seen_gen; /* lease round that last confirmed this lane */
	enum lane_state state;
	unsigned sub; /* enum lane_sub bits */
	char *token;
	int per_second, chat_per_second, group_per_minute;
	bool paid_broadcast;
	struct pending *queue;  /* ordered by priority, then id */
	struct pending **qtail; /* its last link: the last one's next, or &queue if empty */
	int nqueued, inflight;
	struct pending *to_mark; /* sends waiting for their mark (ambiguous = fail) */
	char *settings;          /* the bot's settings as last seen by a lease round */
	int claim_asked;         /* rows the claim in flight asked for */
	int claim_step;          /* the most the next claim asks for: CLAIM_FIRST after a
				* claim that found fewer, four times more after a full one */
	/* the chat where the claims' last walk chat by chat stopped (NULL: none yet;
	 * sql/functions/sd_due.sql), and how many in a row since a wake walked on there and
	 * found nothing */
	char *walked;
	int walks_empty;
	int64_t suspended_until;
	int64_t *retry_due; /* when retries this lane scheduled fall due: claim then */
	int nretry, retry_cap;
	int64_t next_due; /* when the next scheduled message falls due; 0: none known */
	int flood_chats;  /* chats that met a 429 while the bot was not suspended */
	int64_t flood_window_until;
	struct rl_window bot_rate;
	struct chat_slot **chats; /* hash table of nbuckets, a power of two */
	unsigned nbuckets, nchats;
	struct event *ev_timer;
};

/* lane.c: the only writer of a lane's state */
void lane_pump(struct lane *l);
/* lane_go_on - a step of the lane ended: pump it, or, dropping or stopping, give back
 * what waits and free it once nothing is in flight (l may be gone after) */
void lane_go_on(struct lane *l);
int lane_buffer_cap(const struct lane *l);
struct chat_slot *lane_chat(struct lane *l, const char *chat);
void pending_free(struct pending *p);
/* lane_enqueue_all - n claimed messages (any order) into the queue, in one pass */
void lane_enqueue_all(struct lane *l, struct pending **ps, int n);
/* lane_give_back - every waiting message back to 'queued' ("given back unsent") */
void lane_give_back(struct lane *l);
void lane_maybe_free(struct lane *l);
/* lane_sent - p's request ended (its answer began at end, see rl_done): its chat is
 * free, its window times move */
void lane_sent(struct lane *l, struct pending *p, int64_t end);
/* lane_answered - a request of the lane ended: count it, let a waiting lane go (all of
 * them if the process's cap rose: flight.c) */
void lane_answered(struct lane *l, bool cap_rose);
/* lane_retry_at - a message of this lane becomes due again after delay_ms */
void lane_retry_at(struct lane *l, int delay_ms);
/* lane_due_in - the claim says the next message falls due in ms: wake the lane then */
void lane_due_in(struct lane *l, int64_t ms);
/* lane_flood - a 429 for chat: it waits retry_after s; the whole bot too when several
 * chats meet 429s within a second (the bot's limit, not a chat's) */
void lane_flood(struct lane *l, const char *chat, int retry_after);

/* lane_loaded - its bot was read: token (taken, wiped when freed) and limits */
void lane_loaded(struct lane *l, char *token, const struct lane_limits *lim);
/* lane_ready - the previous owner's sends are resolved: LOADING -> READY, and claim
 * (or, dropped meanwhile, free it: l may be gone after) */
void lane_ready(struct lane *l);
/* lane_fail - the lane cannot start: it is dropped and freed now (the next lease
 * round starts it again) */
void lane_fail(struct lane *l);
/* lane_kill - Telegram refused the token: true the first time (the caller disables
 * the bot), after which nothing more is claimed or sent */
bool lane_kill(struct lane *l);
/* lane_set_limits - the bot's limits into the lane's windows */
void lane_set_limits(struct lane *l, const struct lane_limits *lim);
/* lane_claim_begin - a claim starts: the rows to ask for (0: none, nothing starts) */
int lane_claim_begin(struct lane *l);
/* lane_claim_end - the claim ended with n rows (-1: it failed; it claimed nothing);
 * held: it passed over due messages (LANE_HELD); walked: where its walk chat by chat
 * stopped (NULL: it did not walk) */
void lane_claim_end(struct lane *l, int n, bool held, const char *walked);
/* lane_claim_lost - the claim's outcome is unknown: resolve its rows (LANE_ORPHANS) */
void lane_claim_lost(struct lane *l);
/* lane_orphans_end - the rows of a lost claim are back in the queue (ok) or not yet */
void lane_orphans_end(struct lane *l, bool ok);
/* lane_reload_begin - reading the limits again starts; false when it may not now
 * (the lane is not ready, or a reload is in flight) */
bool lane_reload_begin(struct lane *l);
void lane_reload_end(struct lane *l);
/* lane_mark_later - p starts once marked (ambiguous = fail) */
void lane_mark_later(struct lane *l, struct pending *p);
/* lane_mark_begin - a mark starts: the sends it covers (taken), or NULL when one is in
 * flight or none waits */
struct pending *lane_mark_begin(struct lane *l);
void lane_mark_end(struct lane *l);

/* claim.c */
/* claim_start - the claim groups, one per lane connection (claims of the lanes waiting
 * on a connection go in one statement) */
void claim_start(struct senderd *sd);
void claim_stop(struct senderd *sd);
/* claim_more - the lane claims what lane_claim_begin allows, with its claim group */
void claim_more(struct lane *l);

/* start.c */
/* start_load - the lane starts: its bot loaded, what a previous owner left resolved */
void start_load(struct lane *l);
/* start_reload - read the bot's limits again (its settings changed) */
void start_reload(struct lane *l);
/* start_orphans - send this bot's rows left in 'sending' back (after a lost claim) */
void start_orphans(struct lane *l);

/* deliver.c */
void deliver_send(struct lane *l, struct pending *p);
/* deliver_start - send p, after marking it when [senderd] ambiguous = fail */
void deliver_start(struct lane *l, struct pending *p);
void deliver_flush_marks(struct lane *l);

#endif
