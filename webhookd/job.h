/*
 * job.h - one stored update being processed (process.c runs it; commands.c and
 * bridge.c act on it). Every step is idempotent: an update processed twice (a crash
 * before wh_finish committed) sends its replies once and charges once (ledger keys).
 */
#ifndef WEBHOOKD_JOB_H
#define WEBHOOKD_JOB_H

#include "webhookd/webhookd.h"

#include <yajl/yajl_gen.h>

struct wh_job {
	struct webhookd *wh;
	struct wh_bot *bot;    /* NULL when its bot is not loaded (deleted long ago) */
	int64_t bot_id, seq, update_id;
	int attempts;
	yajl_val update;       /* the stored Update */
	const char *kind;      /* "message", "callback_query", ... */
	yajl_val body;         /* update[kind] */
	yajl_val msg;          /* the Message it carries (message, edited_message), or NULL */
	int64_t chat_id;       /* msg's chat, 0 when none */
	const char *chat_type; /* "private", "supergroup", ... ("" when none) */
	const char *text;      /* msg's text or caption, or NULL */
	/* the user, as wh_record left it */
	int64_t user_id;       /* 0: the update has no user */
	bool new_user, pass_active, banned;
	int64_t credits;
	unsigned ar_gen;       /* autoreply.c: its bot's rules cache generation at a read */
	/* what it sends: a JSON array of {"chat", "method", "params"} */
	yajl_gen replies;
	int nreplies;
	bool billing;          /* hand the update to billingd */
	/* bridge.c: the user and topic an admin's command or button is about */
	int64_t peer_user, peer_thread;
	void (*inbox_next)(struct wh_job *j); /* inbox.c: what follows the recording */
};

/* wh_job_done - finish: queue the replies, mark the update with outcome, go on */
void wh_job_done(struct wh_job *j, const char *outcome);
/* wh_job_postpone - leave the update unprocessed; it is claimed again after seconds */
void wh_job_postpone(struct wh_job *j, int seconds, const char *why);
/* wh_job_query - run sql on webhookd's connection; cb gets the job back */
typedef void (*wh_job_cb)(struct wh_job *j, PGresult *res, const char *err);
void wh_job_query(struct wh_job *j, const char *sql, int n, const char *const *params,
		  wh_job_cb cb);

/* reply building: begin opens {"chat":..,"method":..,"params":{"chat_id":..}; the
 * caller adds params with tgm_jgen_*; end closes it. thread 0: none */
void wh_reply_begin(struct wh_job *j, int64_t chat, const char *method, int64_t thread);
void wh_reply_end(struct wh_job *j);
/* wh_reply_end_bridge - end, and mark the message as the bridge's: "topic" (a copy into
 * user's topic thread) or "user" (a copy to user); bridge.c repairs their failures */
void wh_reply_end_bridge(struct wh_job *j, const char *bridge, int64_t user, int64_t thread);
/* wh_reply_text - a sendMessage of text, with an inline keyboard of one row of
 * buttons (labels[i] -> callback data[i], n of them; n 0: none) */
void wh_reply_text(struct wh_job *j, int64_t chat, int64_t thread, const char *text,
		   const char *const *labels, const char *const *data, size_t n);

/* inbox.c - WH_INBOX_CLOSE_SQL(closed): the statement that follows a CTE t of topics
 * (bot_id, user_id) closed (closed true) or reopened: their conversations in the inbox
 * do the same */
#define WH_INBOX_CLOSE_SQL(closed) \
	"UPDATE conversations c SET state = CASE WHEN " closed " THEN 'closed'" \
	" WHEN c.state = 'closed' THEN 'open' ELSE c.state END," \
	" snoozed_until = CASE WHEN " closed " THEN NULL ELSE c.snoozed_until END" \
	" FROM t WHERE c.bot_id = t.bot_id AND c.chat_id = t.user_id"
/* inbox.c - write the update into its conversation (if any), then next(j);
 * payload: the update's JSON text */
void wh_inbox_record(struct wh_job *j, const char *payload, void (*next)(struct wh_job *j));

/* commands.c */
bool wh_is_command(const struct wh_job *j);
void wh_command(struct wh_job *j);
void wh_callback(struct wh_job *j);

/* autoreply.c - a user's private message that is not a command: the flood check and
 * the auto-reply rules, then the bridge (wh_bridge_user) unless the user floods */
void wh_autoreply(struct wh_job *j);

/* bridge.c */
void wh_bridge_user(struct wh_job *j);
void wh_bridge_admin(struct wh_job *j);
/* wh_bridge_member - a user blocked or unblocked the bot: say so in their topic */
void wh_bridge_member(struct wh_job *j);
/* wh_bridge_internal - webhookd's own updates: tgm_topic_lost, tgm_undelivered */
void wh_bridge_internal(struct wh_job *j);

#endif
