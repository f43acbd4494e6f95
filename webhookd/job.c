/*
 * job.c - one claimed update's life: parsed, its chat and user recorded (wh_record in
 * SQL), written into the inbox (in the same statement when it can), handed to what acts
 * on its kind, and finished (wh_finish: replies queued and the update marked, in one
 * transaction) or postponed. Recording and finishing usually go with other jobs' in one
 * statement (group.c); this file holds each step for one job alone, which is also what
 * a job falls back to when its group's statement fails.
 * Its statements go through the connection it was given; when it is over, done or not,
 * it calls the end it was given (the processor's batch, process.c).
 */
#include "webhookd/job.h"
#include "common/botset.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTEMPTS 5
#define MAX_ATTEMPTS_TEXT "5"

/* the update's chat and user are recorded ($3: count the message, first attempt only) */
static const char record_sql[] =
	"SELECT user_id, new_user, credits, pass_active, banned FROM wh_record($1, $2::jsonb, $3)";

/* the same and the update into the inbox after it (wh_inbox_rides), in one statement:
 * one row always, so inbox_record runs once ($4: the update's seq) */
static const char record_inbox_sql[] =
	"SELECT r.user_id, r.new_user, r.credits, r.pass_active, r.banned,"
	"  inbox_record($1, $4::bigint, $2::jsonb)"
	" FROM (SELECT 1) one LEFT JOIN LATERAL wh_record($1, $2::jsonb, $3) r ON true";

/* $5: the audit rows of role.c's wh_audit, each written once (ref: the update and its
 * place), $6 the bot */
static const char finish_sql[] =
	"WITH a AS (SELECT count(audit_write(NULL, $6::bigint, 'telegram', e->>'actor',"
	"  e->>'action', e->>'target', (e->>'detail')::jsonb, 'tg:' || $1::bigint || ':' || i))"
	"  FROM jsonb_array_elements($5::jsonb) WITH ORDINALITY x(e, i))"
	" SELECT wh_finish($1::bigint, $2, $3::jsonb, $4) FROM a";

static const char postpone_sql[] =
	"UPDATE tg_updates SET claimed_until = now() + make_interval(secs => $2::int)"
	" WHERE seq = $1";

/* a job and what only job.c sees of it, in one allocation */
struct job_slot {
	struct wh_job job;
	const char *payload;    /* the update's JSON text, borrowed until the end */
	char *outcome;          /* wh_job_done's, once it is called */
	struct tgm_pg *pg;      /* the connection the job's statements go through */
	void (*end)(void *arg); /* called once, when the job is over */
	void *arg;
};

struct job_q {
	struct wh_job *j;
	wh_job_cb cb;
};

/* on_job_query - a job's query answered: to the job's callback */
static void on_job_query(PGresult *res, const char *err, void *arg)
{
	struct job_q *q = arg;
	struct wh_job *j = q->j;
	wh_job_cb cb = q->cb;

	free(q);
	cb(j, res, err);
}

void wh_job_query(struct wh_job *j, const char *sql, int n, const char *const *params, wh_job_cb cb)
{
	struct job_q *q = tgm_xcalloc(1, sizeof(*q));

	q->j = j;
	q->cb = cb;
	tgm_pg_query(((struct job_slot *)j)->pg, sql, n, params, on_job_query, q);
}

/* job_end - the job is over, done or not: free it, its parsed update and its replies,
 * then call its end */
static void job_end(struct wh_job *j)
{
	struct job_slot *slot = (struct job_slot *)j;
	void (*end)(void *arg) = slot->end;
	void *arg = slot->arg;

	if (j->update)
		yajl_tree_free(j->update);
	if (j->replies)
		yajl_gen_free(j->replies);
	if (j->audit)
		yajl_gen_free(j->audit);
	free(slot->outcome);
	free(slot);
	end(arg);
}

/* push_billing - tell billingd an update waits for it (it sweeps tg_updates too) */
static void push_billing(const struct wh_job *j)
{
	char json[64];
	int n = snprintf(json, sizeof(json), "{\"seq\":%lld}", (long long)j->seq);

	tgm_bus_send(j->wh->billing, "tg", json, (size_t)n);
}

void wh_job_finished(struct wh_job *j, const char *err)
{
	if (err)
		log_warn("bot=%lld update=%lld: finishing: %s (it will be processed again)",
			 (long long)j->bot_id, (long long)j->update_id, err);
	else if (j->billing)
		push_billing(j);
	job_end(j);
}

/* on_finished - wh_finish: ring senderd when it queued replies, then wh_job_finished */
static void on_finished(struct wh_job *j, PGresult *res, const char *err)
{
	int64_t n = 0;

	if (!err && tgm_parse_int64(PQgetvalue(res, 0, 0), &n) && n > 0)
		wh_ring(j->wh, j->bot_id);
	wh_job_finished(j, err);
}

void wh_job_finish_alone(struct wh_job *j)
{
	char seq[24], bot[24];
	const char *params[6] = {
		seq, wh_job_outcome(j), wh_job_replies(j), j->billing ? "t" : "f", "[]", bot
	};

	if (j->audit)
		params[4] = tgm_jgen_text(j->audit, NULL);
	tgm_i64(seq, sizeof(seq), j->seq);
	tgm_i64(bot, sizeof(bot), j->bot_id);
	wh_job_query(j, finish_sql, 6, params, on_finished);
}

void wh_job_done(struct wh_job *j, const char *outcome)
{
	((struct job_slot *)j)->outcome = tgm_xstrdup(outcome);
	yajl_gen_array_close(j->replies);
	if (j->audit)
		yajl_gen_array_close(j->audit);
	log_debug("bot=%lld update=%lld: %s (%d replies)", (long long)j->bot_id,
		  (long long)j->update_id, outcome, j->nreplies);
	if (j->audit == NULL) /* audit rows are rare: those jobs finish alone */
		wh_group_finish(j);
	else
		wh_job_finish_alone(j);
}

const char *wh_job_outcome(const struct wh_job *j)
{
	return ((const struct job_slot *)j)->outcome;
}

const char *wh_job_replies(const struct wh_job *j)
{
	return tgm_jgen_text(j->replies, NULL);
}

const char *wh_job_payload(const struct wh_job *j)
{
	return ((const struct job_slot *)j)->payload;
}

struct tgm_pg *wh_job_pg(const struct wh_job *j)
{
	return ((const struct job_slot *)j)->pg;
}

/* on_postponed - the update's claim is pushed back: end the job */
static void on_postponed(struct wh_job *j, PGresult *res, const char *err)
{
	(void)res;
	if (err)
		log_warn("postponing an update: %s", err);
	job_end(j);
}

void wh_job_postpone(struct wh_job *j, int seconds, const char *why)
{
	char seq[24], secs[16];
	const char *params[2] = { seq, secs };

	log_info("bot=%lld update=%lld: postponed %d s: %s", (long long)j->bot_id,
		 (long long)j->update_id, seconds, why);
	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	snprintf(secs, sizeof(secs), "%d", seconds);
	wh_job_query(j, postpone_sql, 2, params, on_postponed);
}

/* job_parse_message - the message an update carries, its chat and text */
static void job_parse_message(struct wh_job *j)
{
	const char *id_path[] = { "chat", "id", NULL }, *type_path[] = { "chat", "type", NULL };
	yajl_val id, type;

	j->chat_type = "";
	if (strcmp(j->kind, "message") != 0 && strcmp(j->kind, "edited_message") != 0)
		return;
	j->msg = j->body;
	id = yajl_tree_get(j->msg, id_path, yajl_t_number);
	type = yajl_tree_get(j->msg, type_path, yajl_t_string);
	j->chat_id = id && YAJL_IS_INTEGER(id) ? YAJL_GET_INTEGER(id) : 0;
	j->chat_type = type ? YAJL_GET_STRING(type) : "";
	j->text = tgm_json_get_str(j->msg, "text");
	if (j->text == NULL)
		j->text = tgm_json_get_str(j->msg, "caption");
}

/* job_lang - the languages of the job's texts: its user's (the language_code of the
 * update's sender) and the admins' (the bot's own language) */
static void job_lang(struct wh_job *j)
{
	const char *path[] = { "from", "language_code", NULL };
	yajl_val code = yajl_tree_get(j->body, path, yajl_t_string);

	tgm_text_lang(j->bot->settings, code ? YAJL_GET_STRING(code) : NULL, j->lang);
	tgm_text_lang(j->bot->settings, NULL, j->admin_lang);
}

/* admin_chat - the job's chat is its bot's admin chat (settings.admin_chat_id) */
static bool admin_chat(const struct wh_job *j)
{
	int64_t admin = tgm_botset_int(j->bot->settings, "admin_chat_id");

	return admin != 0 && j->chat_id == admin;
}

bool wh_job_member_gone(const struct wh_job *j)
{
	const char *st = tgm_json_get_str(tgm_json_get(j->body, "new_chat_member"), "status");

	return st && (strcmp(st, "kicked") == 0 || strcmp(st, "left") == 0);
}

/* tell_gone - the bot was blocked or removed in the update's chat (recorded blocked by
 * wh_record.sql): every gatewayd's bot choice forgets the chat */
static void tell_gone(struct wh_job *j)
{
	const char *path[] = { "chat", "id", NULL };
	yajl_val id = yajl_tree_get(j->body, path, yajl_t_number);

	if (id && YAJL_IS_INTEGER(id))
		wh_chat_gone(j->wh, j->bot_id, YAJL_GET_INTEGER(id));
}

/* dispatch - the chat and user are recorded: hand the update to what acts on its kind
 * (internal, payment, callback, member, admin, command or auto-reply), else just done */
static void dispatch(struct wh_job *j)
{
	bool private_chat = strcmp(j->chat_type, "private") == 0;

	if (strcmp(j->kind, "my_chat_member") == 0 && wh_job_member_gone(j))
		tell_gone(j);

	if (strncmp(j->kind, "tgm_", 4) == 0)
		wh_repair_internal(j);
	else if (strcmp(j->kind, "pre_checkout_query") == 0) /* answered even when banned */
		(j->billing = true, wh_job_done(j, "to billingd: pre_checkout_query"));
	else if (j->banned && !admin_chat(j))
		wh_job_done(j, "ignored: the user is banned");
	else if (strcmp(j->kind, "callback_query") == 0)
		wh_callback(j);
	else if (strcmp(j->kind, "my_chat_member") == 0 && j->user_id)
		wh_topic_member(j);
	else if (j->msg && tgm_json_get(j->msg, "successful_payment"))
		(j->billing = true, wh_job_done(j, "to billingd: successful_payment"));
	else if (j->msg && tgm_json_get(j->msg, "refunded_payment"))
		(j->billing = true, wh_job_done(j, "to billingd: refunded_payment"));
	else if (j->msg && admin_chat(j))
		wh_admin_message(j);
	else if (strcmp(j->kind, "message") == 0 && private_chat && wh_is_command(j))
		wh_command(j);
	else if (strcmp(j->kind, "message") == 0 && private_chat)
		wh_menu_input(j, wh_autoreply); /* a reply to an admin menu's prompt, or not */
	else
		wh_job_done(j, "recorded");
}

void wh_job_recorded(struct wh_job *j, PGresult *res, int row, bool inboxed)
{
	if (row >= 0 && !PQgetisnull(res, row, 0)) {
		tgm_parse_int64(PQgetvalue(res, row, 0), &j->user_id);
		j->new_user = PQgetvalue(res, row, 1)[0] == 't';
		tgm_parse_int64(PQgetvalue(res, row, 2), &j->credits);
		j->pass_active = PQgetvalue(res, row, 3)[0] == 't';
		j->banned = PQgetvalue(res, row, 4)[0] == 't';
	}
	if (inboxed)
		dispatch(j);
	else
		wh_inbox_record(j, ((struct job_slot *)j)->payload, dispatch);
}

/* on_recorded - wh_record (and inbox_record with it) for this job alone: on; an error
 * postpones the update */
static void on_recorded(struct wh_job *j, PGresult *res, const char *err)
{
	if (err) { /* again after as many seconds as attempts made, until it gives up */
		wh_job_postpone(j, j->attempts, err);
		return;
	}
	wh_job_recorded(j, res, PQntuples(res) == 1 ? 0 : -1, PQnfields(res) > 5);
}

void wh_job_record(struct wh_job *j)
{
	char bot[24], seq[24];
	const char *params[4] = { bot, NULL, NULL, seq };
	bool inbox = wh_inbox_rides(j);

	snprintf(bot, sizeof(bot), "%lld", (long long)j->bot_id);
	params[1] = ((struct job_slot *)j)->payload;
	params[2] = j->attempts == 1 ? "t" : "f";
	tgm_i64(seq, sizeof(seq), j->seq);
	wh_job_query(j, inbox ? record_inbox_sql : record_sql, inbox ? 4 : 3, params, on_recorded);
}

/* job_new - the job of the claimed update c, on pg */
static struct wh_job *job_new(struct webhookd *wh, struct tgm_pg *pg, const struct wh_claimed *c)
{
	struct job_slot *slot = tgm_xcalloc(1, sizeof(*slot));
	struct wh_job *j = &slot->job;
	char err[128];

	slot->payload = c->payload;
	slot->pg = pg;
	j->wh = wh;
	j->seq = c->seq;
	j->bot_id = c->bot_id;
	j->update_id = c->update_id;
	j->attempts = c->attempts;
	j->bot = wh_bot_find(wh, j->bot_id);
	j->update = tgm_json_parse(c->payload, strlen(c->payload), strlen(c->payload) + 1,
				   TGM_JSON_MAX_DEPTH, err, sizeof(err));
	j->replies = tgm_jgen_new();
	yajl_gen_array_open(j->replies);
	return j;
}

struct wh_job *wh_job_start(struct webhookd *wh, struct tgm_pg *pg, const struct wh_claimed *c,
			    void (*end)(void *arg), void *arg)
{
	struct wh_job *j = job_new(wh, pg, c);
	char err[160];
	int64_t chat;

	((struct job_slot *)j)->end = end;
	((struct job_slot *)j)->arg = arg;

	if (j->bot == NULL || j->update == NULL) {
		wh_job_done(j, j->bot ? "ignored: not JSON" : "ignored: the bot is not loaded");
		return NULL;
	}
	if (!wh_update_check(j->update, true, &j->update_id, &chat, &j->kind, err, sizeof(err))) {
		wh_job_done(j, "ignored: not an Update");
		return NULL;
	}
	if (j->attempts > MAX_ATTEMPTS) {
		wh_job_done(j, "failed: gave up after " MAX_ATTEMPTS_TEXT " attempts");
		return NULL;
	}
	j->body = tgm_json_get(j->update, j->kind);
	job_parse_message(j);
	job_lang(j);
	return j;
}
