/*
 * lane.h - one bot's sending lane, shared by lane.c (scheduling), claim.c (taking
 * messages from the database) and deliver.c (sending them and judging the answer).
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
	char *chat;      /* the chat key: "123" or "@name" */
	char *method;
	char *params;    /* JSON object text */
	int priority;
	int attempts;
	int64_t expires_at;  /* monotonic ms after which it must not go out; 0: never */
	int bot_slot, gap_slot, minute_slot; /* its places in the rate windows */
	int64_t sent_ms;     /* when its request started (monotonic ms) */
	bool botapi;         /* sent through the Bot API endpoint: keep Telegram's answer */
	bool files;          /* with uploaded files (botapi_files): sent as multipart */
};

/* chat_slot - what the lane knows of one chat: its limits and whether it is busy */
struct chat_slot {
	struct chat_slot *next; /* hash chain */
	char *chat;
	bool group;             /* a group or channel: per-minute limit */
	bool busy;              /* a request to this chat is in flight: keeps order */
	int64_t suspended_until;
	struct rl_window gap;   /* chat_per_second per second */
	struct rl_window minute;/* group_per_minute per minute (groups only) */
};

enum lane_state {
	LANE_LOADING, /* reading the bot and recovering what a dead owner left */
	LANE_READY,
	LANE_DEAD,    /* the token is refused: the bot is disabled */
};

#define LANE_CHAT_BUCKETS 256

struct lane {
	struct lane *hnext;    /* senderd's hash chain */
	struct lane *wnext;    /* senderd's waiting list (the process-wide cap) */
	bool waiting;
	struct senderd *sd;
	struct tgm_pg *pg;     /* one of sd->lane_pgs: the lane's queries stay in order */
	int64_t bot_id;
	unsigned seen_gen;     /* lease round that last confirmed this lane */
	enum lane_state state;
	bool dropping;         /* the lease is gone: finish in-flight, then free */
	char *token;
	int per_second, chat_per_second, group_per_minute;
	bool paid_broadcast;
	struct pending *queue; /* ordered by priority, then id */
	int nqueued, inflight;
	bool claiming, more, wake_claim;
	struct pending *to_mark; /* sends waiting for their mark (ambiguous = fail) */
	bool marking;
	bool reloading;
	char *settings;        /* the bot's settings as last seen by a lease round */
	int claim_asked;       /* rows the claim in flight asked for */
	int64_t suspended_until;
	int64_t *retry_due;    /* when retries this lane scheduled fall due: claim then */
	int nretry, retry_cap;
	int64_t next_due;      /* when the next scheduled message falls due; 0: none known */
	int flood_chats;       /* chats that met a 429 while the bot was not suspended */
	int64_t flood_window_until;
	struct rl_window bot_rate;
	struct chat_slot *chats[LANE_CHAT_BUCKETS];
	struct event *ev_timer;
};

/* lane.c */
void lane_pump(struct lane *l);
int lane_buffer_cap(const struct lane *l);
struct chat_slot *lane_chat(struct lane *l, const char *chat);
void pending_free(struct pending *p);
/* lane_enqueue_all - n claimed messages (any order) into the queue, in one pass */
void lane_enqueue_all(struct lane *l, struct pending **ps, int n);
void lane_maybe_free(struct lane *l);
/* lane_sent - p's request was answered: its chat is free, its window times move */
void lane_sent(struct lane *l, struct pending *p);
/* lane_answered - a request of the lane ended: count it, let a waiting lane go */
void lane_answered(struct lane *l);
/* lane_retry_at - a message of this lane becomes due again after delay_ms */
void lane_retry_at(struct lane *l, int delay_ms);

/* claim.c */
void claim_load(struct lane *l);
/* claim_reload - read the bot's limits again (its settings changed) */
void claim_reload(struct lane *l);
void claim_more(struct lane *l);
void claim_return_all(struct lane *l);

/* deliver.c */
void deliver_send(struct lane *l, struct pending *p);
/* deliver_start - send p, after marking it when [senderd] ambiguous = fail */
void deliver_start(struct lane *l, struct pending *p);
void deliver_flush_marks(struct lane *l);

#endif
