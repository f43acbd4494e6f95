/*
 * topic.c - each user of a bot with an admin group (a forum) has a topic there, made
 * on its first need (createForumTopic; claimed in `topics`, so one webhookd makes it)
 * with a pinned info card and its Info, Gift and Ban buttons. A user who blocks or
 * unblocks the bot is told there. relay.c copies the user's messages into the topic,
 * admin.c the admins' answers out of it, repair.c makes it again when it is found gone.
 */
#include "webhookd/job.h"
#include "common/botset.h"
#include "common/json.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/text.h"
#include "common/uservars.h"
#include "common/util.h"
#include "common/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const char thread_sql[] =
	"SELECT thread_id FROM topics WHERE bot_id = $1 AND user_id = $2 AND admin_chat_id = $3"
	" AND thread_id IS NOT NULL";

/* the user as the info card shows them (also for admin.c's /info) */
const char wh_topic_card_sql[] =
	"SELECT first_name, coalesce(last_name, ''), coalesce(username, ''), credits,"
	" coalesce(to_char(pass_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC', ''),"
	" coalesce(pass_until > now(), false),"
	" to_char(first_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC',"
	" banned_at IS NOT NULL, messages, bot_user_tier(bot_id, spent, messages)"
	" FROM bot_users WHERE bot_id = $1 AND user_id = $2";

/* the bridge's state rides on the job: which user, which thread, what to do next */
struct bridge {
	struct wh_job *j;
	int64_t user, thread, admin;
	void (*then)(struct wh_job *j, int64_t thread);
};

/* wh_topic_admin - the bot's admin group (admin_chat_id), 0 when it has none */
int64_t wh_topic_admin(const struct wh_job *j)
{
	return tgm_botset_int(j->bot->settings, "admin_chat_id");
}

void wh_topic_card_text(const struct wh_job *j, PGresult *res, int64_t user, char *out, size_t n)
{
	bool pass = PQgetvalue(res, 0, 5)[0] == 't';
	const char *uname = PQgetvalue(res, 0, 2);
	char name[512], id[24], plan[256], tier[32];

	snprintf(name, sizeof(name), "%s%s%s%s%s", PQgetvalue(res, 0, 0),
		 *PQgetvalue(res, 0, 1) ? " " : "", PQgetvalue(res, 0, 1), *uname ? " @" : "",
		 uname);
	tgm_i64(id, sizeof(id), user);
	tgm_text_fill(plan, sizeof(plan),
		      wh_say_admin(j, pass ? "card_plan_pass" : "card_plan_credits"),
		      (const char *const[]){ "until", PQgetvalue(res, 0, 4), NULL });
	snprintf(tier, sizeof(tier), "tier_%s", PQgetvalue(res, 0, 9)); /* new, regular, vip */
	tgm_text_fill(out, n, wh_say_admin(j, "card"),
		      (const char *const[]){
			      "name", name, "id", id, "credits", PQgetvalue(res, 0, 3), "plan",
			      plan, "tier", wh_say_admin(j, tgm_text_has(tier) ? tier : "tier_new"),
			      "messages", PQgetvalue(res, 0, 8), "first_seen",
			      PQgetvalue(res, 0, 6), "banned",
			      PQgetvalue(res, 0, 7)[0] == 't' ? wh_say_admin(j, "card_banned") : "",
			      NULL });
}

/* card_buttons - the info card's reply_markup: one row of Info, Gift and Ban buttons
 * whose callback_data is "action:user" */
static void card_buttons(const struct wh_job *j, yajl_gen g, int64_t user)
{
	const char *const labels[] = { wh_say_admin(j, "button_info"),
				       wh_say_admin(j, "button_gift"),
				       wh_say_admin(j, "button_ban") };
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
			    "pinChatMessage", tgm_jgen_text(g, NULL),
			    strlen(tgm_jgen_text(g, NULL)),
			    p->wh->ctx->cfg->telegram.timeout * 1000, wh_reply_direct_done, p->wh);
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

	wh_topic_card_text(j, res, br->user, text, sizeof(text));
	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "chat_id", br->admin);
	tgm_jgen_kint(g, "message_thread_id", br->thread);
	tgm_jgen_kstr(g, "text", text);
	card_buttons(j, g, br->user);
	yajl_gen_map_close(g);
	p->wh = j->wh;
	p->token = tgm_xstrdup(j->bot->token);
	p->admin = br->admin;
	wh_reply_direct(j, "sendMessage", g, on_card_sent, p);
}

/* bridge_of - a new bridge for the job: the user, the admin group, what follows */
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
	tgm_i64(p[0], 24, br->j->bot->id);
	tgm_i64(p[1], 24, br->user);
	tgm_i64(p[2], 24, br->admin);
	tgm_i64(p[3], 24, br->thread);
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

/* bridge_fail - no topic: frees the bridge and postpones the job (WH_RETRY_SECONDS) or
 * ends it, with outcome */
static void bridge_fail(struct bridge *br, const char *outcome, bool postpone)
{
	struct wh_job *j = br->j;

	free(br);
	if (postpone)
		wh_job_postpone(j, WH_RETRY_SECONDS, outcome);
	else
		wh_job_done(j, outcome);
}

/* on_card_row - wh_topic_card_sql answered: sends the info card into the new topic when the
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
	bquery(br, wh_topic_card_sql, 2, params, on_card_row);
}

/* topic_name - a new topic's name in out: the bot's topic_name setting with
 * {first_name}, {last_name}, {username}, {user_id} (and the rest of common/uservars.c)
 * filled in, cut to TOPIC_NAME_MAX
 * characters; the user id when that leaves it empty */
static void topic_name(struct wh_job *j, int64_t user, char *out, size_t n)
{
	const char *from[] = { "from", NULL };
	yajl_val who = j->msg ? yajl_tree_get(j->msg, from, yajl_t_object) : NULL;
	char *name = tgm_uservars_fill(
		tgm_botset_str(j->bot->settings, "topic_name"),
		&(struct tgm_uservars){ who ? tgm_json_get_str(who, "first_name") : NULL,
					who ? tgm_json_get_str(who, "last_name") : NULL,
					who ? tgm_json_get_str(who, "username") : NULL,
					j->bot->name, user });

	snprintf(out, n, "%s", name);
	free(name);
	tgm_utf8_cut(out, strlen(out)); /* a byte-cut snprintf ends on a character */
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
	tgm_i64(p[3], 24, thread);
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
	wh_reply_direct(br->j, "createForumTopic", g, on_created, m);
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

/* wh_topic_with - the user's topic (made when missing), then then(j, thread) */
void wh_topic_with(struct wh_job *j, int64_t user, void (*then)(struct wh_job *, int64_t))
{
	struct bridge *br = bridge_of(j, user, wh_topic_admin(j), then);
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

void wh_topic_say(struct wh_job *j, int64_t thread, const char *text)
{
	wh_reply_text(j, wh_topic_admin(j), thread, text, NULL, NULL, 0);
}

/* on_member_thread - thread_sql answered for a my_chat_member update: says in the
 * user's topic that they blocked (kicked, left) or unblocked the bot */
static void on_member_thread(struct wh_job *j, PGresult *res, const char *err)
{
	bool gone = wh_job_member_gone(j);
	int64_t thread = 0;

	if (err || PQntuples(res) != 1 || !tgm_parse_int64(PQgetvalue(res, 0, 0), &thread)) {
		wh_job_done(j, "recorded");
		return;
	}
	wh_topic_say(j, thread, wh_say_admin(j, gone ? "user_blocked" : "user_unblocked"));
	wh_job_done(j,
		    gone ? "reported in the topic: blocked" : "reported in the topic: unblocked");
}

void wh_topic_member(struct wh_job *j)
{
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };

	if (wh_topic_admin(j) == 0 || j->user_id == 0) {
		wh_job_done(j, "recorded");
		return;
	}
	tgm_i64(p[0], 24, j->bot->id);
	tgm_i64(p[1], 24, j->user_id);
	tgm_i64(p[2], 24, wh_topic_admin(j));
	wh_job_query(j, thread_sql, 3, params, on_member_thread);
}
