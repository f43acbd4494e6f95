/*
 * bridge.c - conversations: each user of a bot with an admin group (a forum) gets a
 * topic there, made on their first message (createForumTopic, then a pinned info
 * card). What the user writes is copied into the topic and what admins write in the
 * topic is copied back (copyMessage, through the outbound queue). A topic found gone
 * when a copy fails ("message thread not found") is made again and the copy resent;
 * a user who blocks the bot (my_chat_member), or a copy to one, is told in the topic.
 * When the bot charges for messages, a user's message costs credits (ledger key
 * msg:<update_id>) unless a time pass is active; without credits it is not relayed
 * and the user is told.
 */
#include "webhookd/job.h"
#include "common/botset.h"
#include "common/json.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/text.h"
#include "common/utf8.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_SECONDS 5
#define TOPIC_NAME_MAX 128

/* the thread of the user's topic, or a claim to create it (created = 1) */
static const char topic_sql[] =
	"WITH t AS (SELECT thread_id FROM topics WHERE bot_id = $1 AND user_id = $2"
	"  AND admin_chat_id = $3 AND thread_id IS NOT NULL),"
	" c AS (INSERT INTO topics (bot_id, user_id, admin_chat_id, creating_until)"
	"  SELECT $1, $2, $3, now() + make_interval(secs => $4::int)"
	"  WHERE NOT EXISTS (SELECT 1 FROM t)"
	"  ON CONFLICT ON CONSTRAINT topics_pkey DO UPDATE"
	"  SET creating_until = now() + make_interval(secs => $4::int)"
	"  WHERE topics.thread_id IS NULL AND (topics.creating_until IS NULL"
	"   OR topics.creating_until < now()) RETURNING 1)"
	" SELECT (SELECT thread_id FROM t), (SELECT count(*) FROM c)";

static const char topic_made_sql[] =
	"UPDATE topics SET thread_id = $4, name = $5, creating_until = NULL, closed_at = NULL"
	" WHERE bot_id = $1 AND user_id = $2 AND admin_chat_id = $3";

static const char topic_release_sql[] =
	"UPDATE topics SET creating_until = NULL WHERE bot_id = $1 AND user_id = $2"
	" AND admin_chat_id = $3 AND thread_id IS NULL";

static const char topic_lost_sql[] =
	"DELETE FROM topics WHERE bot_id = $1 AND user_id = $2 AND admin_chat_id = $3"
	" AND thread_id = $4";

static const char thread_sql[] =
	"SELECT thread_id FROM topics WHERE bot_id = $1 AND user_id = $2 AND admin_chat_id = $3"
	" AND thread_id IS NOT NULL";

static const char topic_user_sql[] =
	"SELECT user_id FROM topics WHERE bot_id = $1 AND admin_chat_id = $2 AND thread_id = $3";

/* the user as the info card shows them */
static const char card_sql[] =
	"SELECT first_name, coalesce(last_name, ''), coalesce(username, ''), credits,"
	" coalesce(to_char(pass_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC', ''),"
	" coalesce(pass_until > now(), false),"
	" to_char(first_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC',"
	" banned_at IS NOT NULL, messages"
	" FROM bot_users WHERE bot_id = $1 AND user_id = $2";

static const char debit_sql[] =
	"SELECT refused, balance FROM ledger_apply($1::bigint, $2::bigint, 'msg:' || $3::text,"
	" 'debit', -$4::bigint, p_reason => 'message from the user')";

static const char low_sql[] =
	"SELECT warn, credits FROM low_balance_cross($1::bigint, $2::bigint, $3::bigint)";

static const char ban_sql[] =
	"UPDATE bot_users SET banned_at = CASE WHEN $3 THEN coalesce(banned_at, now()) END"
	" WHERE bot_id = $1 AND user_id = $2";

static const char gift_sql[] =
	"SELECT balance FROM ledger_apply($1::bigint, $2::bigint, 'gift:' || $3::text, 'gift',"
	" $4::bigint, p_reason => 'gift by an admin')";

/* the topic, and the user's conversation in the inbox with it */
static const char close_sql[] =
	"WITH t AS (UPDATE topics SET closed_at = CASE WHEN $4::boolean THEN now() END"
	"  WHERE bot_id = $1 AND admin_chat_id = $2 AND thread_id = $3 RETURNING bot_id, user_id)"
	" " WH_INBOX_CLOSE_SQL("$4::boolean");

/* failed bridge copies become webhookd's own updates, once each (update_id = -msg id) */
static const char sweep_sql[] =
	"INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)"
	" SELECT m.bot_id, -m.id, (m.metadata->>'user')::bigint, k.kind,"
	"  jsonb_build_object('update_id', -m.id, k.kind, jsonb_build_object('message', m.id,"
	"   'user', (m.metadata->>'user')::bigint, 'thread', (m.metadata->>'thread')::bigint,"
	"   'from_chat_id', m.params->'from_chat_id', 'message_id', m.params->'message_id',"
	"   'error', m.last_error))"
	" FROM messages m, LATERAL (SELECT CASE WHEN m.metadata->>'bridge' = 'topic'"
	"  THEN 'tgm_topic_lost' ELSE 'tgm_undelivered' END AS kind) k"
	" WHERE m.status = 'failed' AND m.metadata ? 'bridge'"
	"  AND m.updated_at > now() - interval '1 day'"
	"  AND ((m.metadata->>'bridge' = 'topic' AND m.last_error LIKE '%thread not found%')"
	"   OR (m.metadata->>'bridge' = 'user' AND (m.last_error LIKE '%Forbidden%'"
	"    OR m.last_error LIKE 'chat blocked%')))"
	" ON CONFLICT (bot_id, update_id) DO NOTHING";

/* the kinds of message that can be copied (service messages cannot) */
static const char *const content_keys[] = {
	"text", "photo", "document", "voice", "video", "sticker", "audio", "animation",
	"video_note", "location", "contact", "venue", "poll", "dice", NULL,
};

/* costs: a message's first content key names its cost setting, else cost_other */
static const char *const cost_keys[][2] = {
	{ "text", "cost_text" }, { "photo", "cost_photo" }, { "video", "cost_video" },
	{ "video_note", "cost_video" }, { "voice", "cost_voice" }, { "audio", "cost_voice" },
	{ "document", "cost_document" }, { "sticker", "cost_sticker" },
	{ "animation", "cost_video" },
};

/* the bridge's state rides on the job: which user, which thread, what to do next */
struct bridge {
	struct wh_job *j;
	int64_t user, thread, admin;
	void (*then)(struct wh_job *j, int64_t thread);
};

/* admin_of - the bot's admin group (admin_chat_id), 0 when it has none */
static int64_t admin_of(const struct wh_job *j)
{
	return tgm_botset_int(j->bot->settings, "admin_chat_id");
}

/* relayable - whether msg has content that can be copied (not a service message) */
static bool relayable(yajl_val msg)
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

/* i64 - v as decimal text in out (a query parameter) */
static void i64(char *out, size_t n, int64_t v)
{
	snprintf(out, n, "%lld", (long long)v);
}

/* a direct Telegram call that only logs its failure */
static void on_direct(const struct tgm_tg_result *r, void *arg)
{
	struct webhookd *wh = arg;

	wh->inflight--;
	if (!r->ok)
		log_warn("a forum call failed: %s", r->description ? r->description : "no answer");
}

/* direct - calls Telegram's method with g's JSON at once (not through the outbound
 * queue), counted in flight; frees g; cb answers */
static void direct(struct wh_job *j, const char *method, yajl_gen g, tgm_tg_cb cb, void *arg)
{
	size_t len;
	const char *json = tgm_jgen_text(g, &len);

	j->wh->inflight++;
	tgm_tg_call(j->wh->tg, j->wh->ctx->cfg->telegram.api_url, j->bot->token, method, json, len,
		    j->wh->ctx->cfg->telegram.timeout * 1000, cb, arg);
	yajl_gen_free(g);
}

/* -- the info card --------------------------------------------------------------- */

static void card_text(PGresult *res, int64_t user, char *out, size_t n)
{
	bool pass = PQgetvalue(res, 0, 5)[0] == 't';
	const char *uname = PQgetvalue(res, 0, 2);

	snprintf(out, n, "👤 %s%s%s%s%s\nID: %lld\nCredits: %s\nTier: %s%s\nMessages: %s\n"
		 "First seen: %s%s", PQgetvalue(res, 0, 0), *PQgetvalue(res, 0, 1) ? " " : "",
		 PQgetvalue(res, 0, 1), *uname ? " @" : "", uname, (long long)user,
		 PQgetvalue(res, 0, 3), pass ? "time pass until " : "credits",
		 pass ? PQgetvalue(res, 0, 4) : "", PQgetvalue(res, 0, 8), PQgetvalue(res, 0, 6),
		 PQgetvalue(res, 0, 7)[0] == 't' ? "\n🚫 Banned" : "");
}

/* card_buttons - the info card's reply_markup: one row of Info, Gift and Ban buttons
 * whose callback_data is "action:user" */
static void card_buttons(yajl_gen g, int64_t user)
{
	static const char *const labels[] = { "Info", "Gift", "Ban" };
	static const char *const actions[] = { "info", "gift", "ban" };
	char data[64];

	tgm_jgen_key(g, "reply_markup");
	yajl_gen_map_open(g);
	tgm_jgen_key(g, "inline_keyboard");
	yajl_gen_array_open(g);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < 3; i++) {
		snprintf(data, sizeof(data), "%s:%lld", actions[i], (long long)user);
		yajl_gen_map_open(g);
		tgm_jgen_kstr(g, "text", labels[i]);
		tgm_jgen_kstr(g, "callback_data", data);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

struct pin {
	struct webhookd *wh;
	char *token;
	int64_t admin;
};

/* on_card_sent - sendMessage of the info card answered: pins the card (without
 * notification) when it was sent, logs when not; frees the pin */
static void on_card_sent(const struct tgm_tg_result *r, void *arg)
{
	struct pin *p = arg;
	int64_t mid;
	yajl_gen g;

	p->wh->inflight--;
	if (r->ok && tgm_json_get_int(r->result, "message_id", &mid) && !p->wh->ctx->stopping) {
		g = tgm_jgen_new();
		yajl_gen_map_open(g);
		tgm_jgen_kint(g, "chat_id", p->admin);
		tgm_jgen_kint(g, "message_id", mid);
		tgm_jgen_kbool(g, "disable_notification", true);
		yajl_gen_map_close(g);
		p->wh->inflight++;
		tgm_tg_call(p->wh->tg, p->wh->ctx->cfg->telegram.api_url, p->token,
			    "pinChatMessage", tgm_jgen_text(g, NULL), strlen(tgm_jgen_text(g, NULL)),
			    p->wh->ctx->cfg->telegram.timeout * 1000, on_direct, p->wh);
		yajl_gen_free(g);
	} else if (!r->ok) {
		log_warn("the info card: %s", r->description ? r->description : "no answer");
	}
	free(p->token);
	free(p);
}

/* send_card - the info card into a new topic, pinned once it is there (direct calls:
 * the topic is being set up) */

static void send_card(struct wh_job *j, struct bridge *br, PGresult *res)
{
	char text[1024];
	yajl_gen g = tgm_jgen_new();
	struct pin *p = tgm_xcalloc(1, sizeof(*p));

	card_text(res, br->user, text, sizeof(text));
	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "chat_id", br->admin);
	tgm_jgen_kint(g, "message_thread_id", br->thread);
	tgm_jgen_kstr(g, "text", text);
	card_buttons(g, br->user);
	yajl_gen_map_close(g);
	p->wh = j->wh;
	p->token = tgm_xstrdup(j->bot->token);
	p->admin = br->admin;
	direct(j, "sendMessage", g, on_card_sent, p);
}

/* -- topics ----------------------------------------------------------------------- */

static struct bridge *bridge_of(struct wh_job *j, int64_t user, int64_t admin,
				void (*then)(struct wh_job *, int64_t))
{
	struct bridge *br = tgm_xcalloc(1, sizeof(*br));

	br->j = j;
	br->user = user;
	br->admin = admin;
	br->then = then;
	return br;
}

/* topic_params - the bridge's bot, user, admin group and thread as query parameters */
static void topic_params(const struct bridge *br, char p[4][24])
{
	i64(p[0], 24, br->j->bot->id);
	i64(p[1], 24, br->user);
	i64(p[2], 24, br->admin);
	i64(p[3], 24, br->thread);
}

/* the bridge rides through queries in place of the job; these carry it */
struct bq {
	struct bridge *br;
	void (*cb)(struct bridge *br, PGresult *res, const char *err);
};

/* on_bq - a bquery's answer: frees the carrier and hands res and err to its callback */
static void on_bq(PGresult *res, const char *err, void *arg)
{
	struct bq *q = arg;
	struct bridge *br = q->br;
	void (*cb)(struct bridge *, PGresult *, const char *) = q->cb;

	free(q);
	cb(br, res, err);
}

/* bquery - runs sql with the bridge in place of the job; cb(br, res, err) answers */
static void bquery(struct bridge *br, const char *sql, int n, const char *const *params,
		   void (*cb)(struct bridge *, PGresult *, const char *))
{
	struct bq *q = tgm_xcalloc(1, sizeof(*q));

	q->br = br;
	q->cb = cb;
	tgm_pg_query(br->j->wh->ctx->db, sql, n, params, on_bq, q);
}

/* bridge_go - the topic is there: frees the bridge and goes on with then(j, thread) */
static void bridge_go(struct bridge *br)
{
	struct wh_job *j = br->j;
	void (*then)(struct wh_job *, int64_t) = br->then;
	int64_t thread = br->thread;

	free(br);
	then(j, thread);
}

/* bridge_fail - no topic: frees the bridge and postpones the job (RETRY_SECONDS) or
 * ends it, with outcome */
static void bridge_fail(struct bridge *br, const char *outcome, bool postpone)
{
	struct wh_job *j = br->j;

	free(br);
	if (postpone)
		wh_job_postpone(j, RETRY_SECONDS, outcome);
	else
		wh_job_done(j, outcome);
}

/* on_card_row - card_sql answered: sends the info card into the new topic when the
 * user was found, then goes on */
static void on_card_row(struct bridge *br, PGresult *res, const char *err)
{
	if (!err && PQntuples(res) == 1)
		send_card(br->j, br, res);
	bridge_go(br);
}

/* on_topic_saved - topic_made_sql answered: reads the user's card row (on_card_row), or
 * postpones the job when saving failed */
static void on_topic_saved(struct bridge *br, PGresult *res, const char *err)
{
	char p[4][24];
	const char *params[2] = { p[0], p[1] };

	(void)res;
	if (err) {
		bridge_fail(br, "saving the topic failed", true);
		return;
	}
	topic_params(br, p);
	bquery(br, card_sql, 2, params, on_card_row);
}

/* topic_name - a new topic's name in out: the bot's topic_name setting with
 * {first_name}, {last_name}, {username} and {user_id} filled in, cut to TOPIC_NAME_MAX
 * characters; the user id when that leaves it empty */
static void topic_name(struct wh_job *j, int64_t user, char *out, size_t n)
{
	const char *t = tgm_botset_str(j->bot->settings, "topic_name");
	const char *from[] = { "from", NULL };
	yajl_val who = j->msg ? yajl_tree_get(j->msg, from, yajl_t_object) : NULL;
	const char *first = who ? tgm_json_get_str(who, "first_name") : NULL;
	const char *last = who ? tgm_json_get_str(who, "last_name") : NULL;
	const char *uname = who ? tgm_json_get_str(who, "username") : NULL;
	size_t used = 0;

	while (*t && used + 1 < n) {
		const char *v = NULL;
		char idtext[24];

		if (strncmp(t, "{first_name}", 12) == 0)
			v = first ? first : "", t += 12;
		else if (strncmp(t, "{last_name}", 11) == 0)
			v = last ? last : "", t += 11;
		else if (strncmp(t, "{username}", 10) == 0)
			v = uname ? uname : "", t += 10;
		else if (strncmp(t, "{user_id}", 9) == 0)
			i64(idtext, sizeof(idtext), user), v = idtext, t += 9;
		if (v)
			used += (size_t)snprintf(out + used, n - used, "%s", v);
		else
			out[used++] = *t++;
	}
	out[used < n ? used : n - 1] = '\0';
	tgm_utf8_truncate(out, TOPIC_NAME_MAX);
	if (*out == '\0')
		snprintf(out, n, "%lld", (long long)user);
}

struct made {
	struct bridge *br;
	char name[TOPIC_NAME_MAX * 4 + 8];
};

/* on_released - topic_release_sql answered (the claim is given up): postpones the job */
static void on_released(struct bridge *br, PGresult *res, const char *err)
{
	(void)res;
	(void)err;
	bridge_fail(br, "createForumTopic failed", true);
}

/* on_created - createForumTopic answered: saves the new thread (topic_made_sql), or
 * releases the claim when Telegram made no topic */
static void on_created(const struct tgm_tg_result *r, void *arg)
{
	struct made *m = arg;
	struct bridge *br = m->br;
	char p[4][24];
	const char *params[5] = { p[0], p[1], p[2], p[3], m->name };
	int64_t thread;

	br->j->wh->inflight--;
	topic_params(br, p);
	if (!r->ok || !tgm_json_get_int(r->result, "message_thread_id", &thread)) {
		log_warn("bot=%lld user=%lld: createForumTopic: %s", (long long)br->j->bot->id,
			 (long long)br->user, r->description ? r->description : "no answer");
		free(m);
		bquery(br, topic_release_sql, 3, params, on_released);
		return;
	}
	br->thread = thread;
	i64(p[3], 24, thread);
	bquery(br, topic_made_sql, 5, params, on_topic_saved);
	free(m);
}

/* create_topic - asks Telegram for the user's topic in the admin group (createForumTopic,
 * named by topic_name) */
static void create_topic(struct bridge *br)
{
	struct made *m = tgm_xcalloc(1, sizeof(*m));
	yajl_gen g = tgm_jgen_new();

	m->br = br;
	topic_name(br->j, br->user, m->name, sizeof(m->name));
	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "chat_id", br->admin);
	tgm_jgen_kstr(g, "name", m->name);
	yajl_gen_map_close(g);
	direct(br->j, "createForumTopic", g, on_created, m);
}

/* on_topic - topic_sql answered: goes on with the thread found, creates the topic when
 * this webhookd claimed it, else postpones (another one is creating it) */
static void on_topic(struct bridge *br, PGresult *res, const char *err)
{
	if (err) {
		bridge_fail(br, "finding the topic failed", true);
	} else if (!PQgetisnull(res, 0, 0)) {
		tgm_parse_int64(PQgetvalue(res, 0, 0), &br->thread);
		bridge_go(br);
	} else if (strcmp(PQgetvalue(res, 0, 1), "1") == 0) {
		create_topic(br);
	} else {
		bridge_fail(br, "another webhookd is creating the topic", true);
	}
}

/* with_topic - the user's topic (made when missing), then then(j, thread) */
static void with_topic(struct wh_job *j, int64_t user, void (*then)(struct wh_job *, int64_t))
{
	struct bridge *br = bridge_of(j, user, admin_of(j), then);
	char p[4][24];
	const char *params[4] = { p[0], p[1], p[2], p[3] };

	if (j->bot->token == NULL) {
		bridge_fail(br, "the bot's token does not open", false);
		return;
	}
	topic_params(br, p);
	snprintf(p[3], 24, "%d", wh_claim_seconds(j->wh));
	bquery(br, topic_sql, 4, params, on_topic);
}

/* -- user to topic ---------------------------------------------------------------- */

static void copy_into_topic(struct wh_job *j, int64_t thread)
{
	int64_t mid = 0;

	tgm_json_get_int(j->msg, "message_id", &mid);
	wh_reply_begin(j, admin_of(j), "copyMessage", thread);
	tgm_jgen_kint(j->replies, "from_chat_id", j->chat_id);
	tgm_jgen_kint(j->replies, "message_id", mid);
	wh_reply_end_bridge(j, "topic", j->user_id, thread);
	wh_job_done(j, "relayed to the topic");
}

/* credits_words - a balance from a result's text as words ("1 credit", "5 credits") */
static const char *credits_words(char *out, size_t n, const char *value)
{
	int64_t v = 0;

	tgm_parse_int64(value, &v);
	return tgm_text_count(out, n, "credits", v, NULL);
}

/* on_low - low_sql answered: tells the user when their balance just fell below
 * low_balance, then copies the message into the topic */
static void on_low(struct wh_job *j, PGresult *res, const char *err)
{
	char text[256], credits[64];

	if (!err && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't') {
		tgm_text_fill(text, sizeof(text), tgm_text("low_balance", NULL),
			      (const char *const[]){ "credits", credits_words(credits,
				sizeof(credits), PQgetvalue(res, 0, 1)), NULL });
		wh_reply_text(j, j->chat_id, 0, text, NULL, NULL, 0);
	}
	copy_into_topic(j, j->peer_thread);
}

/* no_credits - tells the user they have no credits (with a Buy button); the message is
 * not relayed */
static void no_credits(struct wh_job *j)
{
	const char *label[] = { tgm_text("button_buy", NULL) }, *const data[] = { "buy" };

	wh_reply_text(j, j->chat_id, 0, tgm_text_bot(j->bot->settings, "no_credit", NULL), label,
		      data, 1);
	wh_job_done(j, "not relayed: no credits");
}

/* on_debited - debit_sql answered: no_credits when refused, else checks the low balance
 * warning (low_sql); postpones on a database error */
static void on_debited(struct wh_job *j, PGresult *res, const char *err)
{
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };

	if (err) {
		wh_job_postpone(j, RETRY_SECONDS, err);
		return;
	}
	if (PQgetvalue(res, 0, 0)[0] == 't') {
		no_credits(j);
		return;
	}
	i64(p[0], 24, j->bot->id);
	i64(p[1], 24, j->user_id);
	i64(p[2], 24, tgm_botset_int(j->bot->settings, "low_balance"));
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
	i64(p[0], 24, j->bot->id);
	i64(p[1], 24, j->user_id);
	i64(p[2], 24, j->update_id);
	i64(p[3], 24, cost);
	wh_job_query(j, debit_sql, 4, params, on_debited);
}

void wh_bridge_user(struct wh_job *j)
{
	if (admin_of(j) == 0) {
		wh_job_done(j, "recorded: the bot has no admin group");
		return;
	}
	if (!relayable(j->msg) || j->user_id == 0) {
		wh_job_done(j, "ignored: nothing to relay");
		return;
	}
	with_topic(j, j->user_id, charge_then_copy);
}

/* -- topic to user, admin commands -------------------------------------------------- */

static void topic_say(struct wh_job *j, int64_t thread, const char *text)
{
	wh_reply_text(j, admin_of(j), thread, text, NULL, NULL, 0);
}

struct admin_cmd {
	struct wh_job *j;
	int64_t user, thread;
};

/* copy_to_user - queues a copy of the admin's message to the user (bridge "user") */
static void copy_to_user(struct wh_job *j, int64_t user, int64_t thread)
{
	int64_t mid = 0;

	tgm_json_get_int(j->msg, "message_id", &mid);
	wh_reply_begin(j, user, "copyMessage", 0);
	tgm_jgen_kint(j->replies, "from_chat_id", j->chat_id);
	tgm_jgen_kint(j->replies, "message_id", mid);
	wh_reply_end_bridge(j, "user", user, thread);
	wh_job_done(j, "relayed to the user");
}

/* on_info - card_sql answered for /info (or the Info button): the user's card in the
 * topic, or "no such user" */
static void on_info(struct wh_job *j, PGresult *res, const char *err)
{
	char text[1024];

	if (err || PQntuples(res) != 1) {
		topic_say(j, j->peer_thread, tgm_text("no_such_user", NULL));
	} else {
		card_text(res, j->peer_user, text, sizeof(text));
		topic_say(j, j->peer_thread, text);
	}
	wh_job_done(j, "admin /info");
}

/* on_banned - ban_sql answered: says in the topic that the user is banned or unbanned;
 * postpones on a database error */
static void on_banned(struct wh_job *j, PGresult *res, const char *err)
{
	bool ban = j->text && strncmp(j->text, "/ban", 4) == 0;

	(void)res;
	if (err) {
		wh_job_postpone(j, RETRY_SECONDS, err);
		return;
	}
	topic_say(j, j->peer_thread, tgm_text(ban ? "user_banned" : "user_unbanned", NULL));
	wh_job_done(j, ban ? "admin /ban" : "admin /unban");
}

/* on_gifted - gift_sql answered: tells the topic and the user the credits given, or the
 * topic that the gift failed */
static void on_gifted(struct wh_job *j, PGresult *res, const char *err)
{
	char text[200], credits[64];
	const char *vars[] = { "credits", NULL, NULL };

	if (err || PQntuples(res) != 1) {
		topic_say(j, j->peer_thread, tgm_text("gift_failed", NULL));
		wh_job_done(j, "admin /gift failed");
		return;
	}
	vars[1] = credits_words(credits, sizeof(credits), PQgetvalue(res, 0, 0));
	topic_say(j, j->peer_thread, tgm_text_fill(text, sizeof(text), tgm_text("gift_sent", NULL),
						   vars));
	tgm_text_fill(text, sizeof(text), tgm_text("gift_received", NULL), vars);
	wh_reply_text(j, j->peer_user, 0, text, NULL, NULL, 0);
	wh_job_done(j, "admin /gift");
}

/* on_closed - close_sql answered: closes or reopens the forum topic itself
 * (closeForumTopic, reopenForumTopic) */
static void on_closed(struct wh_job *j, PGresult *res, const char *err)
{
	bool close = j->text && strncmp(j->text, "/close", 6) == 0;
	yajl_gen g = tgm_jgen_new();

	(void)res;
	(void)err;
	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "chat_id", admin_of(j));
	tgm_jgen_kint(g, "message_thread_id", j->peer_thread);
	yajl_gen_map_close(g);
	direct(j, close ? "closeForumTopic" : "reopenForumTopic", g, on_direct, j->wh);
	wh_job_done(j, close ? "admin /close" : "admin /reopen");
}

/* admin_command - runs an admin's command in a user's topic: /info, /ban, /unban,
 * /gift N, /close, /reopen; anything else gets the help text */
static void admin_command(struct wh_job *j, int64_t user, int64_t thread)
{
	char p[4][24], word[16] = "";
	const char *params[4] = { p[0], p[1], p[2], p[3] };
	long long n = 0;

	j->peer_user = user;
	j->peer_thread = thread;
	i64(p[0], 24, j->bot->id);
	i64(p[1], 24, user);
	sscanf(j->text, "/%15[a-z]", word);
	if (strcmp(word, "info") == 0) {
		wh_job_query(j, card_sql, 2, params, on_info);
	} else if (strcmp(word, "ban") == 0 || strcmp(word, "unban") == 0) {
		snprintf(p[2], 24, "%s", word[0] == 'b' ? "t" : "f");
		wh_job_query(j, ban_sql, 3, params, on_banned);
	} else if (strcmp(word, "gift") == 0 && sscanf(j->text, "/gift %lld", &n) == 1 &&
		   n > 0 && n <= 1000000) {
		i64(p[2], 24, j->update_id);
		i64(p[3], 24, n);
		wh_job_query(j, gift_sql, 4, params, on_gifted);
	} else if (strcmp(word, "close") == 0 || strcmp(word, "reopen") == 0) {
		i64(p[1], 24, admin_of(j));
		i64(p[2], 24, thread);
		snprintf(p[3], 24, "%s", word[0] == 'c' ? "t" : "f");
		wh_job_query(j, close_sql, 4, params, on_closed);
	} else {
		topic_say(j, thread, tgm_text("admin_help", NULL));
		wh_job_done(j, "admin command unknown");
	}
}

/* on_topic_user - topic_user_sql answered for an admin's message: runs a command, or
 * copies the message to the topic's user; ignores other topics and service messages */
static void on_topic_user(struct wh_job *j, PGresult *res, const char *err)
{
	int64_t user = 0, thread = 0;

	if (err) {
		wh_job_postpone(j, RETRY_SECONDS, err);
		return;
	}
	if (PQntuples(res) != 1) {
		wh_job_done(j, "ignored: not a user's topic");
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 0), &user);
	tgm_json_get_int(j->msg, "message_thread_id", &thread);
	if (j->text && j->text[0] == '/')
		admin_command(j, user, thread);
	else if (relayable(j->msg))
		copy_to_user(j, user, thread);
	else
		wh_job_done(j, "ignored: a service message");
}

static void card_button(struct wh_job *j);

void wh_bridge_admin(struct wh_job *j)
{
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };
	const char *from[] = { "from", "is_bot", NULL };
	yajl_val is_bot;
	int64_t thread = 0;

	if (strcmp(j->kind, "callback_query") == 0) {
		card_button(j);
		return;
	}
	is_bot = yajl_tree_get(j->msg, from, yajl_t_true);
	if (strcmp(j->kind, "message") != 0 || is_bot ||
	    !tgm_json_get_int(j->msg, "message_thread_id", &thread)) {
		wh_job_done(j, "ignored: not a message in a topic");
		return;
	}
	i64(p[0], 24, j->bot->id);
	i64(p[1], 24, admin_of(j));
	i64(p[2], 24, thread);
	wh_job_query(j, topic_user_sql, 3, params, on_topic_user);
}

/* -- the card's buttons ------------------------------------------------------------- */

static void answer(struct wh_job *j, const char *text)
{
	yajl_gen g = tgm_jgen_new();

	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "callback_query_id", tgm_json_get_str(j->body, "id"));
	if (text)
		tgm_jgen_kstr(g, "text", text);
	yajl_gen_map_close(g);
	direct(j, "answerCallbackQuery", g, on_direct, j->wh);
}

/* on_button_user - topic_user_sql answered for a card button: Ban bans, Info shows the
 * card, Gift tells how; a button outside its user's topic is refused */
static void on_button_user(struct wh_job *j, PGresult *res, const char *err)
{
	char p[3][24], action[16] = "";
	const char *params[3] = { p[0], p[1], p[2] };
	long long user = 0;

	sscanf(tgm_json_get_str(j->body, "data"), "%15[a-z]:%lld", action, &user);
	if (err || PQntuples(res) != 1 || strtoll(PQgetvalue(res, 0, 0), NULL, 10) != user) {
		answer(j, tgm_text("topic_not_users", NULL));
		wh_job_done(j, "ignored: a button outside its user's topic");
		return;
	}
	j->peer_user = user;
	i64(p[0], 24, j->bot->id);
	i64(p[1], 24, user);
	if (strcmp(action, "ban") == 0) {
		answer(j, "Banned");
		snprintf(p[2], 24, "t");
		j->text = "/ban";
		wh_job_query(j, ban_sql, 3, params, on_banned);
	} else if (strcmp(action, "info") == 0) {
		answer(j, NULL);
		wh_job_query(j, card_sql, 2, params, on_info);
	} else {
		answer(j, tgm_text("gift_how", NULL));
		wh_job_done(j, "admin button gift");
	}
}

/* card_button - a press on an info card's button: finds the user of the topic it was
 * pressed in (topic_user_sql, on_button_user); ignores unknown buttons */
static void card_button(struct wh_job *j)
{
	const char *thread_path[] = { "message", "message_thread_id", NULL };
	const char *chat_path[] = { "message", "chat", "id", NULL };
	yajl_val t = yajl_tree_get(j->body, thread_path, yajl_t_number);
	yajl_val chat = yajl_tree_get(j->body, chat_path, yajl_t_number);
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };

	if (t == NULL || chat == NULL || YAJL_GET_INTEGER(chat) != admin_of(j) ||
	    tgm_json_get_str(j->body, "data") == NULL) {
		answer(j, NULL);
		wh_job_done(j, "ignored: an unknown button");
		return;
	}
	j->peer_thread = YAJL_GET_INTEGER(t);
	i64(p[0], 24, j->bot->id);
	i64(p[1], 24, admin_of(j));
	i64(p[2], 24, j->peer_thread);
	wh_job_query(j, topic_user_sql, 3, params, on_button_user);
}

/* -- repairs ---------------------------------------------------------------------- */

static void copy_again(struct wh_job *j, int64_t thread)
{
	const char *path[] = { "tgm_topic_lost", NULL };
	yajl_val lost = yajl_tree_get(j->update, path, yajl_t_object);
	int64_t from = 0, mid = 0;

	tgm_json_get_int(lost, "from_chat_id", &from);
	tgm_json_get_int(lost, "message_id", &mid);
	wh_reply_begin(j, admin_of(j), "copyMessage", thread);
	tgm_jgen_kint(j->replies, "from_chat_id", from);
	tgm_jgen_kint(j->replies, "message_id", mid);
	wh_reply_end_bridge(j, "topic", j->user_id, thread);
	wh_job_done(j, "topic made again, message resent");
}

/* on_lost - topic_lost_sql answered (the lost topic forgotten): makes the topic again
 * and resends the copy (copy_again); postpones on a database error */
static void on_lost(struct wh_job *j, PGresult *res, const char *err)
{
	(void)res;
	if (err)
		wh_job_postpone(j, RETRY_SECONDS, err);
	else
		with_topic(j, j->user_id, copy_again);
}

void wh_bridge_internal(struct wh_job *j)
{
	int64_t thread = 0;
	char p[4][24];
	const char *params[4] = { p[0], p[1], p[2], p[3] };

	tgm_json_get_int(j->body, "user", &j->user_id);
	tgm_json_get_int(j->body, "thread", &thread);
	if (admin_of(j) == 0 || j->user_id == 0) {
		wh_job_done(j, "ignored: the bot has no admin group now");
	} else if (strcmp(j->kind, "tgm_topic_lost") == 0) {
		i64(p[0], 24, j->bot->id);
		i64(p[1], 24, j->user_id);
		i64(p[2], 24, admin_of(j));
		i64(p[3], 24, thread);
		wh_job_query(j, topic_lost_sql, 4, params, on_lost);
	} else {
		topic_say(j, thread, tgm_text("not_delivered", NULL));
		wh_job_done(j, "reported in the topic: not delivered");
	}
}

/* on_member_thread - thread_sql answered for a my_chat_member update: says in the
 * user's topic that they blocked (kicked, left) or unblocked the bot */
static void on_member_thread(struct wh_job *j, PGresult *res, const char *err)
{
	const char *st = tgm_json_get_str(tgm_json_get(j->body, "new_chat_member"), "status");
	bool gone = st && (strcmp(st, "kicked") == 0 || strcmp(st, "left") == 0);
	int64_t thread = 0;

	if (err || PQntuples(res) != 1 || !tgm_parse_int64(PQgetvalue(res, 0, 0), &thread)) {
		wh_job_done(j, "recorded");
		return;
	}
	topic_say(j, thread, tgm_text(gone ? "user_blocked" : "user_unblocked", NULL));
	wh_job_done(j, gone ? "reported in the topic: blocked" : "reported in the topic: unblocked");
}

void wh_bridge_member(struct wh_job *j)
{
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };

	if (admin_of(j) == 0 || j->user_id == 0) {
		wh_job_done(j, "recorded");
		return;
	}
	i64(p[0], 24, j->bot->id);
	i64(p[1], 24, j->user_id);
	i64(p[2], 24, admin_of(j));
	wh_job_query(j, thread_sql, 3, params, on_member_thread);
}

/* on_swept - sweep_sql answered: wakes the processing when failed copies became
 * updates */
static void on_swept(PGresult *res, const char *err, void *arg)
{
	struct webhookd *wh = arg;

	wh->inflight--;
	if (err)
		log_warn("bridge sweep: %s", err);
	else if (strcmp(PQcmdTuples(res), "0") != 0)
		wh_process_kick(wh);
}

void wh_bridge_sweep(struct webhookd *wh)
{
	wh->inflight++;
	tgm_pg_query(wh->ctx->db, sweep_sql, 0, NULL, on_swept, wh);
}
