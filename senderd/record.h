/*
 * record.h - message transitions written in groups (see record.c).
 */
#ifndef SENDERD_RECORD_H
#define SENDERD_RECORD_H

#include <stdint.h>

struct senderd;
struct record;

struct record *record_new(struct senderd *sd);
void record_free(struct record *rec);
/*
 * record_add - message msg_id of bot_id leaves 'sending' for status ("sent",
 * "retrying" after delay_ms, "failed", "expired", "queued"); detail may be NULL;
 * tg_message_id is Telegram's message_id for "sent" (0: none).
 */
void record_add(struct record *rec, int64_t msg_id, int64_t bot_id, const char *status,
		const char *detail, int64_t tg_message_id, int delay_ms);
/* record_exec - a one-off statement in order with the transitions */
void record_exec(struct record *rec, const char *sql, int n, const char *const *params);
/* record_pending - transitions not yet committed */
int record_pending(const struct record *rec);

#endif
