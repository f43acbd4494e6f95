/*
 * inbox.c - the inbox's inbound half: each processed update of a private chat (a
 * message, an edit, the user blocking or unblocking the bot) is written into its
 * conversation's timeline by inbox_record in SQL before the update is acted on; a
 * user's topic closed or reopened in the admin group (the forum's service message)
 * closes or reopens their conversation. Idempotent like every step of a job; a
 * database error postpones the update, which is then processed again from its start.
 */
#include "webhookd/job.h"
#include "common/botset.h"
#include "common/json.h"

#include <stdio.h>
#include <string.h>

static const char record_sql[] = "SELECT inbox_record($1, $2, $3::jsonb)";

/* $1 bot, $2 admin chat, $3 thread, $4 closed, $5 the update */
/* clang-format off */
static const char topic_sql[] =
	"WITH t AS (UPDATE topics SET closed_at = CASE WHEN $4::boolean THEN now() END"
	"  WHERE bot_id = $1 AND admin_chat_id = $2 AND thread_id = $3 RETURNING bot_id, user_id)"
	WH_INBOX_CLOSE_SQL("$4::boolean", "$5::bigint");
/* clang-format on */

/* topic_event - "t" or "f" when the message closes or reopens a topic of the bot's
 * admin group, else NULL */
static const char *topic_event(const struct wh_job *j)
{
	int64_t admin = j->bot ? tgm_botset_int(j->bot->settings, "admin_chat_id") : 0;

	if (j->msg == NULL || admin == 0 || j->chat_id != admin)
		return NULL;
	if (tgm_json_get(j->msg, "forum_topic_closed"))
		return "t";
	return tgm_json_get(j->msg, "forum_topic_reopened") ? "f" : NULL;
}

/* inbox_wanted - the update may belong to a conversation (SQL checks the chat type of
 * my_chat_member) */
static bool inbox_wanted(const struct wh_job *j)
{
	if (strcmp(j->kind, "my_chat_member") == 0)
		return true;
	return j->msg && strcmp(j->chat_type, "private") == 0;
}

/* on_recorded - record_sql or topic_sql answered: goes on with the job's inbox_next, or
 * postpones the update on a database error */
static void on_recorded(struct wh_job *j, PGresult *res, const char *err)
{
	void (*next)(struct wh_job * j) = j->inbox_next;

	(void)res;
	j->inbox_next = NULL;
	if (err) {
		wh_job_postpone(j, j->attempts, err);
		return;
	}
	next(j);
}

/* topic_record - the topic's conversation closes or reopens with it */
static void topic_record(struct wh_job *j, const char *closed, void (*next)(struct wh_job *j))
{
	char bot[24], admin[24], thread[24], seq[24];
	int64_t t = 0;

	tgm_json_get_int(j->msg, "message_thread_id", &t);
	snprintf(bot, sizeof(bot), "%lld", (long long)j->bot_id);
	snprintf(admin, sizeof(admin), "%lld", (long long)j->chat_id);
	snprintf(thread, sizeof(thread), "%lld", (long long)t);
	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	j->inbox_next = next;
	wh_job_query(j, topic_sql, 5, (const char *const[]){ bot, admin, thread, closed, seq },
		     on_recorded);
}

bool wh_inbox_rides(const struct wh_job *j)
{
	return topic_event(j) == NULL && inbox_wanted(j);
}

void wh_inbox_record(struct wh_job *j, const char *payload, void (*next)(struct wh_job *j))
{
	char bot[24], seq[24];
	const char *params[3] = { bot, seq, payload }, *closed = topic_event(j);

	if (closed) {
		topic_record(j, closed, next);
		return;
	}
	if (!inbox_wanted(j)) {
		next(j);
		return;
	}
	snprintf(bot, sizeof(bot), "%lld", (long long)j->bot_id);
	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	j->inbox_next = next;
	wh_job_query(j, record_sql, 3, params, on_recorded);
}
