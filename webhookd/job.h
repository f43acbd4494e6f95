/*
 * job.h - one stored update being processed (process.c claims it, job.c runs its life;
 * commands.c, autoreply.c, relay.c, admin.c, topic.c and repair.c act on it). Every step is
 * idempotent: an update processed twice (a crash before wh_finish committed) sends its
 * replies once and charges once (ledger keys).
 */
#ifndef WEBHOOKD_JOB_H
#define WEBHOOKD_JOB_H

#include "webhookd/webhookd.h"
#include "webhookd/role.h"
#include "common/telegram.h"
#include "common/text.h"

#include <yajl/yajl_gen.h>

/* menu.c: where the admin menu is (its chat, and its message: 0 while it is being sent),
 * the view asked for (callback data "m1:<view>:<arg>:<page>", or a prompt answered with
 * input), the button's answer and the keyboard row being built */
struct wh_menu_at {
	int64_t chat, msg;
	char view[4];
	int64_t arg;
	int page;
	const char *input;                   /* the admin's reply to a prompt, or NULL */
	const char *toast;                   /* answerCallbackQuery's text, or NULL */
	bool row;                            /* a keyboard row is open */
	void (*otherwise)(struct wh_job *j); /* a message that answers no prompt */
};

struct wh_job {
	struct webhookd *wh;
	struct wh_bot *bot; /* NULL when its bot is not loaded (deleted long ago) */
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
	int64_t user_id; /* 0: the update has no user */
	bool new_user, pass_active, banned;
	int64_t credits;
	/* the languages it is spoken to in (common/text.h): the user's (their update's
	 * language_code, as tgm_text_lang settles it) and the admins' (the bot's language) */
	char lang[TGM_TEXT_LANG], admin_lang[TGM_TEXT_LANG];
	unsigned ar_gen; /* autoreply.c: its bot's rules cache generation at a read */
	/* what it sends: a JSON array of {"chat", "method", "params"} */
	yajl_gen replies;
	int nreplies;
	bool billing; /* hand the update to billingd */
	/* admin.c: the user and topic an admin's command or button is about */
	int64_t peer_user, peer_thread;
	void (*inbox_next)(struct wh_job *j);   /* inbox.c: what follows the recording */
	void (*onboard_next)(struct wh_job *j); /* onboard.c: /start when not returning */
	/* role.c: the sender's role for the bot, once looked up (role_known), the check
	 * waiting for it, and the audit rows wh_job_done writes (a JSON array, or NULL) */
	enum wh_role role;
	bool role_known;
	enum wh_role role_need;
	void (*role_then)(struct wh_job *j);
	yajl_gen audit;
	struct wh_menu_at menu; /* menu.c: the admin menu this update is about */
};

/* a claimed update: its row in tg_updates; payload is borrowed until the job's end */
struct wh_claimed {
	int64_t seq, bot_id, update_id;
	int attempts;
	const char *payload;
};
/* wh_job_start - the job of the claimed update c, whose statements go through pg: parsed
 * and checked. NULL when it needs no record (ignored, or given up: it is finishing);
 * else it is to be recorded next, alone (wh_job_record) or with others (wh_group_record).
 * end(arg) is called once when it is over, done or not, never within wh_job_start
 * (count jobs before starting them) */
struct wh_job *wh_job_start(struct webhookd *wh, struct tgm_pg *pg, const struct wh_claimed *c,
			    void (*end)(void *arg), void *arg);
/* wh_job_record - record the job's chat and user (wh_record) alone, then go on */
void wh_job_record(struct wh_job *j);
/* wh_job_recorded - row of res (-1: none) is the job's wh_record row: take its user, then
 * into the inbox (unless inboxed: it rode on that statement) and on to what acts on it */
void wh_job_recorded(struct wh_job *j, PGresult *res, int row, bool inboxed);
/* wh_job_done - finish: queue the replies, write the audit rows (wh_audit), mark the
 * update with outcome; with other jobs' finishes (wh_group_finish) unless it has audit
 * rows; go on */
void wh_job_done(struct wh_job *j, const char *outcome);
/* wh_job_finish_alone - wh_job_done's statement for this job alone */
void wh_job_finish_alone(struct wh_job *j);
/* wh_job_finished - its finish committed (err NULL; billingd is told of its update) or
 * failed (it will be claimed again): the job is over */
void wh_job_finished(struct wh_job *j, const char *err);
/* what group.c reads of a job: its outcome (once done), its replies (a JSON array, once
 * done), its update's JSON text and its connection */
const char *wh_job_outcome(const struct wh_job *j);
const char *wh_job_replies(const struct wh_job *j);
const char *wh_job_payload(const struct wh_job *j);
struct tgm_pg *wh_job_pg(const struct wh_job *j);

/* group.c - statements shared by the jobs of one processing connection, one transaction
 * for many updates */
/* wh_group_record - record jobs[0..n) (all on one connection) in one statement, then
 * each goes on (wh_job_recorded); if it fails, each is recorded alone */
void wh_group_record(struct wh_job **jobs, int n);
/* wh_group_finish - j is done: its finish goes with those of the other jobs of its
 * connection done in this turn of the event loop, in one statement (wh_finish_many);
 * if it fails, each finishes alone */
void wh_group_finish(struct wh_job *j);
/* wh_job_postpone - leave the update unprocessed; it is claimed again after seconds */
void wh_job_postpone(struct wh_job *j, int seconds, const char *why);
/* wh_job_member_gone - a my_chat_member update: the bot was blocked (kicked) or left */
bool wh_job_member_gone(const struct wh_job *j);
/* wh_job_query - run sql on webhookd's connection; cb gets the job back */
typedef void (*wh_job_cb)(struct wh_job *j, PGresult *res, const char *err);
void wh_job_query(struct wh_job *j, const char *sql, int n, const char *const *params,
		  wh_job_cb cb);

/* reply building: begin opens {"chat":..,"method":..,"params":{"chat_id":..}; the
 * caller adds params with tgm_jgen_*; end closes it. thread 0: none */
void wh_reply_begin(struct wh_job *j, int64_t chat, const char *method, int64_t thread);
void wh_reply_end(struct wh_job *j);
/* wh_reply_end_bridge - end, and mark the message as the bridge's: "topic" (a copy into
 * user's topic thread) or "user" (a copy to user); repair.c repairs their failures */
void wh_reply_end_bridge(struct wh_job *j, const char *bridge, int64_t user, int64_t thread);
/* wh_reply_end_react - end a copy to user of the admin group's message mid (bridge
 * "user"): once Telegram took it, the message gets WH_DELIVERED as a reaction
 * (messages_react.sql) */
void wh_reply_end_react(struct wh_job *j, int64_t user, int64_t thread, int64_t mid);
/* the reaction that tells the admins their answer reached the user */
#define WH_DELIVERED "👌"
/* wh_reply_text - a sendMessage of text, with an inline keyboard of one row of
 * buttons (labels[i] -> callback data[i], n of them; n 0: none) */
void wh_reply_text(struct wh_job *j, int64_t chat, int64_t thread, const char *text,
		   const char *const *labels, const char *const *data, size_t n);
/* wh_reply_edit - an editMessageText of chat's message mid to text, with a keyboard as
 * wh_reply_text's (n 0: none, the old one goes) */
void wh_reply_edit(struct wh_job *j, int64_t chat, int64_t mid, const char *text,
		   const char *const *labels, const char *const *data, size_t n);

/* inbox.c - WH_INBOX_CLOSE_SQL(closed, seq): the statement that follows a CTE t of
 * topics (bot_id, user_id) closed (closed true) or reopened: their conversations in the
 * inbox do the same, each change an event of the timeline (topic_closed, topic_reopened)
 * of update seq, so an update processed again records it once */
#define WH_INBOX_CLOSE_SQL(closed, seq) \
	", o AS (SELECT c.id, c.state AS was FROM conversations c JOIN t" \
	"  ON c.bot_id = t.bot_id AND c.chat_id = t.user_id)," \
	" c AS (UPDATE conversations c SET state = CASE WHEN " closed " THEN 'closed'" \
	"  WHEN c.state = 'closed' THEN 'open' ELSE c.state END," \
	"  snoozed_until = CASE WHEN " closed " THEN NULL ELSE c.snoozed_until END" \
	"  FROM o WHERE c.id = o.id RETURNING c.id, c.tenant_id, c.state, o.was)" \
	" INSERT INTO conversation_items (conversation_id, tenant_id, kind, event, update_seq)" \
	" SELECT c.id, c.tenant_id, 'event', CASE WHEN c.state = 'closed' THEN 'topic_closed'" \
	"  ELSE 'topic_reopened' END, " seq " FROM c" \
	" WHERE (c.state = 'closed') <> (c.was = 'closed') ON CONFLICT DO NOTHING"
/* inbox.c - write the update into its conversation (if any), then next(j);
 * payload: the update's JSON text */
void wh_inbox_record(struct wh_job *j, const char *payload, void (*next)(struct wh_job *j));
/* wh_inbox_rides - the update's inbox recording is inbox_record(bot, seq, update) alone
 * (no topic closed or reopened), so it may ride on the statement that records its user
 * (job.c), saving a round trip */
bool wh_inbox_rides(const struct wh_job *j);

/* commands.c */
bool wh_is_command(const struct wh_job *j);
void wh_command(struct wh_job *j);
void wh_callback(struct wh_job *j);

/* wh_answer_callback - stop the pressed button's spinner, with text as a toast (NULL: none) */
void wh_answer_callback(struct wh_job *j, const char *text);

/* onboard.c - a new user's tutorial and a returning user's welcome */
/* wh_onboard_offer - add the tutorial's offer to the replies (when the bot has it on) */
void wh_onboard_offer(struct wh_job *j);
/* wh_onboard_button - a tutorial button (data "tut:...") in a private chat: handled,
 * true; else false */
bool wh_onboard_button(struct wh_job *j, const char *data);
/* wh_onboard_returning - /start of a user who came back: welcome back and done; else
 * otherwise(j) */
void wh_onboard_returning(struct wh_job *j, void (*otherwise)(struct wh_job *j));

/* autoreply.c - a user's private message that is not a command: the flood check and
 * the auto-reply rules, then the relay to the topic (wh_relay_user) unless the user
 * floods */
void wh_autoreply(struct wh_job *j);

/* a database error postpones a job's update this long */
#define WH_RETRY_SECONDS 5

/* topic.c - the user's topic in the bot's admin group */
/* wh_topic_admin - the bot's admin group (admin_chat_id), 0 when it has none */
int64_t wh_topic_admin(const struct wh_job *j);
/* wh_topic_with - the user's topic (made, with its info card, when missing), then
 * then(j, thread); a failure postpones or ends the job */
void wh_topic_with(struct wh_job *j, int64_t user, void (*then)(struct wh_job *, int64_t));
/* wh_topic_say - text into the topic thread (through the outbound queue) */
void wh_topic_say(struct wh_job *j, int64_t thread, const char *text);
/* wh_topic_card_sql ($1 bot, $2 user) and wh_topic_card_text: the user's info card */
extern const char wh_topic_card_sql[];
void wh_topic_card_text(const struct wh_job *j, PGresult *res, int64_t user, char *out, size_t n);
/* wh_topic_member - a user blocked or unblocked the bot: say so in their topic */
void wh_topic_member(struct wh_job *j);

/* relay.c - a user's private message (not a command) into their topic, charged */
void wh_relay_user(struct wh_job *j);
/* wh_relay_copyable - msg has content that can be copied (not a service message) */
bool wh_relay_copyable(yajl_val msg);

/* admin.c - a message or a card button in the admin group */
void wh_admin_message(struct wh_job *j);
/* admins.c - /admins (the owner's: list, add, remove) in the admin group or a private chat */
void wh_admins_command(struct wh_job *j);

/* menu.c - the admin menu (docs/admin-centre.md): wh_menu_is_command says whether the
 * message is /admin or a shortcut (/users ann, /products, ...); wh_menu_command opens
 * the menu; wh_menu_button runs a press of a "m1:" button; wh_menu_input takes a reply
 * to a menu prompt, or calls otherwise(j) when the message answers none */
bool wh_menu_is_command(const struct wh_job *j);
void wh_menu_command(struct wh_job *j);
void wh_menu_button(struct wh_job *j);
void wh_menu_input(struct wh_job *j, void (*otherwise)(struct wh_job *j));

/* repair.c - webhookd's own updates: tgm_topic_lost, tgm_undelivered */
void wh_repair_internal(struct wh_job *j);

/* reply.c - direct calls: Telegram's method with g's JSON now (counted in flight, g
 * freed), cb answers; wh_reply_direct_done as cb only logs a failure */
void wh_reply_direct(struct wh_job *j, const char *method, yajl_gen g, tgm_tg_cb cb, void *arg);
void wh_reply_direct_done(const struct tgm_tg_result *r, void *arg);
/* wh_reply_credits - a balance (a result's text) as words in lang: "1 credit", "5 credits" */
const char *wh_reply_credits(const struct wh_job *j, const char *lang, char *out, size_t n,
			     const char *value);
/* wh_say - the text name as the job's bot says it to its user (j->lang);
 * wh_say_admin - to its admins (j->admin_lang) */
const char *wh_say(const struct wh_job *j, const char *name);
const char *wh_say_admin(const struct wh_job *j, const char *name);

#endif
