/*
 * record.h - message transitions written in groups (see record.c). The writer only
 * writes: who hears of a commit (the status stream, the lanes, the callback lane) is
 * decided by whoever made it, through the commit callback.
 */
#ifndef SENDERD_RECORD_H
#define SENDERD_RECORD_H

#include "common/config.h"
#include "common/msgstatus.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

struct record;

/* record_change - one committed transition, as the commit callback sees it */
struct record_change {
	int64_t msg_id, bot_id;
	enum tgm_msg_status status;
	const char *detail; /* or NULL */
};

/*
 * record_commit_fn - a group committed: its n transitions in the order they were added
 * (one-off statements are not among them), borrowed for the call; callbacks: the group
 * queued delivery callbacks. It may add transitions (they go in the next group).
 */
typedef void (*record_commit_fn)(const struct record_change *c, int n, bool callbacks, void *arg);

/* record_new - a writer with a (pooled) connection of its own; fn hears of each commit */
struct record *record_new(struct event_base *base, const struct tgm_config *cfg,
			  record_commit_fn fn, void *arg);
void record_free(struct record *rec);
/*
 * record_add - message msg_id of bot_id leaves 'sending' for status (TGM_MSG_SENT,
 * _RETRYING after delay_ms, _FAILED, _EXPIRED, _QUEUED); detail may be NULL and is cut
 * to TGM_DETAIL_MAX bytes on a UTF-8 boundary; tg_message_id is Telegram's message_id
 * for a send (0: none).
 */
void record_add(struct record *rec, int64_t msg_id, int64_t bot_id, enum tgm_msg_status status,
		const char *detail, int64_t tg_message_id, int delay_ms);
/* record_exec - a one-off statement in order with the transitions */
void record_exec(struct record *rec, const char *sql, int n, const char *const *params);
/* record_pending - transitions not yet committed */
int record_pending(const struct record *rec);
/* record_pending_of - transitions of bot_id's messages not yet committed */
int record_pending_of(const struct record *rec, int64_t bot_id);

#endif
