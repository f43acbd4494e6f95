/*
 * relay.c - what a user writes to a bot with an admin group is copied into their topic
 * (copyMessage, through the outbound queue). When the bot charges for messages, a
 * message costs credits (ledger key msg:<update_id>, its cost by kind) unless a time
 * pass is active; without credits it is not relayed and the user is told, and a
 * balance falling below low_balance is told once.
 */
#include "webhookd/job.h"
#include "common/botset.h"
#include "common/json.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

static const char debit_sql[] =
	"SELECT refused, balance FROM ledger_apply($1::bigint, $2::bigint, 'msg:' || $3::text,"
	" 'debit', -$4::bigint, p_reason => 'message from the user')";

static const char low_sql[] =
	"SELECT warn, credits FROM low_balance_cross($1::bigint, $2::bigint, $3::bigint)";

/* the kinds of message that can be copied (service messages cannot) */
static const char *const content_keys[] = {
	"text",       "photo",    "document", "voice", "video", "sticker", "audio", "animation",
	"video_note", "location", "contact",  "venue", "poll",  "dice",    NULL,
};

/* costs: a message's first content key names its cost setting, else cost_other */
static const char *const cost_keys[][2] = {
	{ "text", "cost_text" },         { "photo", "cost_photo" },
	{ "video", "cost_video" },       { "video_note", "cost_video" },
	{ "voice", "cost_voice" },       { "audio", "cost_voice" },
	{ "document", "cost_document" }, { "sticker", "cost_sticker" },
	{ "animation", "cost_video" },
};

/* wh_relay_copyable - whether msg has content that can be copied (not a service message) */
bool wh_relay_copyable(yajl_val msg)
{
	for (size_t i = 0; content_keys[i]; i++)
		if (tgm_json_get(msg, content_keys[i]))
			return true;
	return false;
}

/* message_cost - the credits the job's message costs: the cost setting of its first
 * content key found in cost_keys, else cost_other */
static int64_t message_cost(const struct wh_job *j)
{
	for (size_t i = 0; i < sizeof(cost_keys) / sizeof(cost_keys[0]); i++)
		if (tgm_json_get(j->msg, cost_keys[i][0]))
			return tgm_botset_int(j->bot->settings, cost_keys[i][1]);
	return tgm_botset_int(j->bot->settings, "cost_other");
}

/* copy_into_topic - queues a copy of the user's message into their topic thread
 * (marked "topic" for repair.c) and ends the job */
static void copy_into_topic(struct wh_job *j, int64_t thread)
{
	int64_t mid = 0;

	tgm_json_get_int(j->msg, "message_id", &mid);
	wh_reply_begin(j, wh_topic_admin(j), "copyMessage", thread);
	tgm_jgen_kint(j->replies, "from_chat_id", j->chat_id);
	tgm_jgen_kint(j->replies, "message_id", mid);
	wh_reply_end_bridge(j, "topic", j->user_id, thread);
	wh_job_done(j, "relayed to the topic");
}

/* on_low - low_sql answered: tells the user when their balance just fell below
 * low_balance (or, if the bot says so, the balance after every paid message), then
 * copies the message into the topic */
static void on_low(struct wh_job *j, PGresult *res, const char *err)
{
	char text[256], credits[64];

	char cost[64];

	if (!err && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't') {
		tgm_text_fill(text, sizeof(text), wh_say(j, "low_balance"),
			      (const char *const[]){ "credits",
						     wh_reply_credits(j, j->lang, credits,
								      sizeof(credits),
								      PQgetvalue(res, 0, 1)),
						     NULL });
		wh_reply_text(j, j->chat_id, 0, text, NULL, NULL, 0);
	} else if (tgm_botset_bool(j->bot->settings, "balance_after_message")) {
		tgm_text_count_bot(cost, sizeof(cost), j->bot->settings, "credits", message_cost(j),
				   j->lang);
		tgm_text_count_bot(credits, sizeof(credits), j->bot->settings, "credits",
				   j->credits, j->lang);
		tgm_text_fill(text, sizeof(text), wh_say(j, "balance_after"),
			      (const char *const[]){ "cost", cost, "credits", credits, NULL });
		wh_reply_text(j, j->chat_id, 0, text, NULL, NULL, 0);
	}
	copy_into_topic(j, j->peer_thread);
}

/* no_credits - tells the user they have no credits (with a Buy button); the message is
 * not relayed */
static void no_credits(struct wh_job *j)
{
	const char *label[] = { wh_say(j, "button_buy") }, *const data[] = { "buy" };

	wh_reply_text(j, j->chat_id, 0, wh_say(j, "no_credit"), label, data, 1);
	wh_job_done(j, "not relayed: no credits");
}

/* on_debited - debit_sql answered: no_credits when refused, else checks the low balance
 * warning (low_sql); postpones on a database error */
static void on_debited(struct wh_job *j, PGresult *res, const char *err)
{
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };

	if (err) {
		wh_job_postpone(j, WH_RETRY_SECONDS, err);
		return;
	}
	if (PQgetvalue(res, 0, 0)[0] == 't') {
		no_credits(j);
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 1), &j->credits); /* the balance after it */
	tgm_i64(p[0], 24, j->bot->id);
	tgm_i64(p[1], 24, j->user_id);
	tgm_i64(p[2], 24, tgm_botset_int(j->bot->settings, "low_balance"));
	wh_job_query(j, low_sql, 3, params, on_low);
}

/* charge_then_copy - with the topic there: the message's cost, then the copy (the
 * topic comes first, so a message is never charged without being relayed) */
static void charge_then_copy(struct wh_job *j, int64_t thread)
{
	char p[4][24];
	const char *params[4] = { p[0], p[1], p[2], p[3] };
	int64_t cost = message_cost(j);

	j->peer_thread = thread;
	if (!tgm_botset_bool(j->bot->settings, "charge_messages") || j->pass_active || cost <= 0) {
		copy_into_topic(j, thread);
		return;
	}
	tgm_i64(p[0], 24, j->bot->id);
	tgm_i64(p[1], 24, j->user_id);
	tgm_i64(p[2], 24, j->update_id);
	tgm_i64(p[3], 24, cost);
	wh_job_query(j, debit_sql, 4, params, on_debited);
}

void wh_relay_user(struct wh_job *j)
{
	if (wh_topic_admin(j) == 0) {
		wh_job_done(j, "recorded: the bot has no admin group");
		return;
	}
	if (!wh_relay_copyable(j->msg) || j->user_id == 0) {
		wh_job_done(j, "ignored: nothing to relay");
		return;
	}
	wh_topic_with(j, j->user_id, charge_then_copy);
}
