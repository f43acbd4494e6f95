/*
 * inbox.c - the inbox's inbound half: each processed update of a private chat (a
 * message, an edit, the user blocking or unblocking the bot) is written into its
 * conversation's timeline by inbox_record in SQL before the update is acted on.
 * Idempotent like every step of a job; a database error postpones the update, which
 * is then processed again from its start.
 */
#include "webhookd/job.h"

#include <stdio.h>
#include <string.h>

static const char record_sql[] = "SELECT inbox_record($1, $2, $3::jsonb)";

/* inbox_wanted - the update may belong to a conversation (SQL checks the chat type of
 * my_chat_member) */
static bool inbox_wanted(const struct wh_job *j)
{
	if (strcmp(j->kind, "my_chat_member") == 0)
		return true;
	return j->msg && strcmp(j->chat_type, "private") == 0;
}

static void on_recorded(struct wh_job *j, PGresult *res, const char *err)
{
	void (*next)(struct wh_job *j) = j->inbox_next;

	(void)res;
	j->inbox_next = NULL;
	if (err) {
		wh_job_postpone(j, j->attempts, err);
		return;
	}
	next(j);
}

void wh_inbox_record(struct wh_job *j, const char *payload, void (*next)(struct wh_job *j))
{
	char bot[24], seq[24];
	const char *params[3] = { bot, seq, payload };

	if (!inbox_wanted(j)) {
		next(j);
		return;
	}
	snprintf(bot, sizeof(bot), "%lld", (long long)j->bot_id);
	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	j->inbox_next = next;
	wh_job_query(j, record_sql, 3, params, on_recorded);
}
