/*
 * process.c - the processor: claims stored updates (the oldest unprocessed one of each
 * chat, so a chat's updates are handled in order, also across several webhookd),
 * records their chat and user (wh_record in SQL), hands each to what acts on it, and
 * finishes it (wh_finish: replies queued and the update marked, in one transaction).
 * A claim takes up to CLAIM_BATCH updates, each the head of its chat, so they are
 * processed side by side, spread over [webhookd] process_connections connections;
 * when the last is done the next claim follows, until a claim finds nothing (the
 * sweep timer and new updates wake it again).
 */
#include "webhookd/job.h"
#include "common/botset.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLAIM_BATCH "32"
#define MAX_ATTEMPTS 5
#define MAX_ATTEMPTS_TEXT "5"

/* $1: the claim's length in seconds */
static const char claim_sql[] =
	"UPDATE tg_updates u SET claimed_until = now() + make_interval(secs => $1::int),"
	"  attempts = u.attempts + 1"
	" FROM (SELECT p.seq FROM tg_updates p WHERE p.processed_at IS NULL"
	"   AND (p.claimed_until IS NULL OR p.claimed_until < now())"
	"   AND NOT EXISTS (SELECT 1 FROM tg_updates q WHERE q.bot_id = p.bot_id"
	"     AND q.chat_id = p.chat_id AND q.processed_at IS NULL AND q.seq < p.seq)"
	"   ORDER BY p.seq LIMIT " CLAIM_BATCH " FOR UPDATE SKIP LOCKED) c"
	" WHERE u.seq = c.seq"
	" RETURNING u.seq, u.bot_id, u.update_id, u.attempts, u.payload::text";

/* the update's chat and user are recorded ($3: count the message, first attempt only) */
static const char record_sql[] =
	"SELECT user_id, new_user, credits, pass_active, banned FROM wh_record($1, $2::jsonb, $3)";

/* a claim given back unworked was no attempt */
static const char release_sql[] =
	"UPDATE tg_updates SET claimed_until = NULL, attempts = attempts - 1"
	" WHERE seq = ANY($1::bigint[]) AND processed_at IS NULL";

static const char finish_sql[] = "SELECT wh_finish($1, $2, $3::jsonb, $4)";

static const char postpone_sql[] =
	"UPDATE tg_updates SET claimed_until = now() + make_interval(secs => $2::int)"
	" WHERE seq = $1";

/* the claimed batch being worked through */
struct batch {
	struct webhookd *wh;
	PGresult *res;
	int n, running;
};

static void claim(struct webhookd *wh);
static void job_end(struct wh_job *j);

/* the batch a job belongs to rides in its own allocation, after the job */
struct job_slot {
	struct wh_job job;
	struct batch *bt;
	int row;           /* in bt->res */
	struct tgm_pg *pg; /* the connection the job's statements go through */
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

void wh_job_query(struct wh_job *j, const char *sql, int n, const char *const *params,
		  wh_job_cb cb)
{
	struct job_q *q = tgm_xcalloc(1, sizeof(*q));

	q->j = j;
	q->cb = cb;
	tgm_pg_query(((struct job_slot *)j)->pg, sql, n, params, on_job_query, q);
}


/* job_free - free a job, its parsed update and its replies (the slot with it) */
static void job_free(struct wh_job *j)
{
	if (j->update)
		yajl_tree_free(j->update);
	if (j->replies)
		yajl_gen_free(j->replies);
	free(j);
}

/* push_billing - tell billingd an update waits for it (it sweeps tg_updates too) */
static void push_billing(const struct wh_job *j)
{
	char json[64];
	int n = snprintf(json, sizeof(json), "{\"seq\":%lld}", (long long)j->seq);

	tgm_bus_send(j->wh->billing, "tg", json, (size_t)n);
}

/* on_finished - wh_finish: ring senderd when it queued replies, tell billingd of its updates;
 * end the job (an error leaves the update unprocessed, to be claimed again) */
static void on_finished(struct wh_job *j, PGresult *res, const char *err)
{
	int64_t n = 0;

	if (err)
		log_warn("bot=%lld update=%lld: finishing: %s (it will be processed again)",
			 (long long)j->bot_id, (long long)j->update_id, err);
	else if (tgm_parse_int64(PQgetvalue(res, 0, 0), &n) && n > 0)
		wh_ring(j->wh, j->bot_id);
	if (!err && j->billing)
		push_billing(j);
	job_end(j);
}

void wh_job_done(struct wh_job *j, const char *outcome)
{
	char seq[24];
	const char *replies, *params[4] = { seq, outcome, NULL, j->billing ? "t" : "f" };

	yajl_gen_array_close(j->replies);
	replies = tgm_jgen_text(j->replies, NULL);
	params[2] = replies;
	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	log_debug("bot=%lld update=%lld: %s (%d replies)", (long long)j->bot_id,
		  (long long)j->update_id, outcome, j->nreplies);
	wh_job_query(j, finish_sql, 4, params, on_finished);
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

/* dispatch - the chat and user are recorded: hand the update to what acts on its kind
 * (internal, payment, callback, member, admin, command or auto-reply), else just done */
static void dispatch(struct wh_job *j)
{
	bool private_chat = strcmp(j->chat_type, "private") == 0;

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
	else if (j->msg && admin_chat(j))
		wh_admin_message(j);
	else if (strcmp(j->kind, "message") == 0 && private_chat && wh_is_command(j))
		wh_command(j);
	else if (strcmp(j->kind, "message") == 0 && private_chat)
		wh_autoreply(j);
	else
		wh_job_done(j, "recorded");
}

/* on_recorded - wh_record: the user's id, credits, pass and ban on the job; then into the
 * inbox and dispatch; an error postpones the update */
static void on_recorded(struct wh_job *j, PGresult *res, const char *err)
{
	if (err) { /* again after as many seconds as attempts made, until it gives up */
		wh_job_postpone(j, j->attempts, err);
		return;
	}
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		tgm_parse_int64(PQgetvalue(res, 0, 0), &j->user_id);
		j->new_user = PQgetvalue(res, 0, 1)[0] == 't';
		tgm_parse_int64(PQgetvalue(res, 0, 2), &j->credits);
		j->pass_active = PQgetvalue(res, 0, 3)[0] == 't';
		j->banned = PQgetvalue(res, 0, 4)[0] == 't';
	}
	wh_inbox_record(j, PQgetvalue(((struct job_slot *)j)->bt->res,
				      ((struct job_slot *)j)->row, 4), dispatch);
}

/* job_record - the attempt was counted by the claim: record the chat and user */
static void job_record(struct wh_job *j)
{
	char bot[24];
	const char *params[3] = { bot, NULL, NULL };

	if (j->attempts > MAX_ATTEMPTS) {
		wh_job_done(j, "failed: gave up after " MAX_ATTEMPTS_TEXT " attempts");
		return;
	}
	snprintf(bot, sizeof(bot), "%lld", (long long)j->bot_id);
	params[1] = PQgetvalue(((struct job_slot *)j)->bt->res, ((struct job_slot *)j)->row, 4);
	params[2] = j->attempts == 1 ? "t" : "f";
	wh_job_query(j, record_sql, 3, params, on_recorded);
}

/* job_new - the job of the claim's row i, on the pool's connection for its row number */
static struct wh_job *job_new(struct batch *bt, int i)
{
	struct job_slot *slot = tgm_xcalloc(1, sizeof(*slot));
	struct wh_job *j = &slot->job;
	const char *payload = PQgetvalue(bt->res, i, 4);
	char err[128];

	slot->bt = bt;
	slot->row = i;
	slot->pg = bt->wh->pool[i % bt->wh->npool];
	j->wh = bt->wh;
	tgm_parse_int64(PQgetvalue(bt->res, i, 0), &j->seq);
	tgm_parse_int64(PQgetvalue(bt->res, i, 1), &j->bot_id);
	tgm_parse_int64(PQgetvalue(bt->res, i, 2), &j->update_id);
	j->attempts = (int)strtol(PQgetvalue(bt->res, i, 3), NULL, 10);
	j->bot = wh_bot_find(bt->wh, j->bot_id);
	j->update = tgm_json_parse(payload, strlen(payload), strlen(payload) + 1,
				   TGM_JSON_MAX_DEPTH, err, sizeof(err));
	j->replies = tgm_jgen_new();
	yajl_gen_array_open(j->replies);
	return j;
}

/* job_start - check the update (done at once when it is not one, or its bot is not
 * loaded), then find its message and record its chat and user */
static void job_start(struct wh_job *j)
{
	char err[160];
	int64_t chat;

	if (j->bot == NULL || j->update == NULL) {
		wh_job_done(j, j->bot ? "ignored: not JSON" : "ignored: the bot is not loaded");
		return;
	}
	if (!wh_update_check(j->update, true, &j->update_id, &chat, &j->kind, err, sizeof(err))) {
		wh_job_done(j, "ignored: not an Update");
		return;
	}
	j->body = tgm_json_get(j->update, j->kind);
	job_parse_message(j);
	job_lang(j);
	job_record(j);
}

/* release - give back a claim that will not be worked on (stopping) */
static void release(struct batch *bt)
{
	struct tgm_buf seqs;
	const char *params[1];

	tgm_buf_init(&seqs);
	for (int i = 0; i < bt->n; i++)
		tgm_pgarr_add(&seqs, PQgetvalue(bt->res, i, 0));
	tgm_pgarr_end(&seqs);
	params[0] = seqs.p;
	wh_write(bt->wh, "giving back claimed updates", release_sql, 1, params);
	tgm_buf_free(&seqs);
}

/* batch_end - the last job is done: claim again (a chat's next update is claimable
 * once this one is done) */
static void batch_end(struct batch *bt)
{
	struct webhookd *wh = bt->wh;
	bool more = bt->n > 0;

	PQclear(bt->res);
	free(bt);
	wh->processing = false;
	if ((more || wh->kick_again) && !wh->ctx->stopping)
		claim(wh);
}

/* job_end - a job is over, done or not */
static void job_end(struct wh_job *j)
{
	struct batch *bt = ((struct job_slot *)j)->bt;

	job_free(j);
	if (--bt->running == 0)
		batch_end(bt);
}

/* batch_start - every claimed update at once: each is the head of its own chat */
static void batch_start(struct batch *bt)
{
	struct wh_job **jobs;

	if (bt->n == 0 || bt->wh->ctx->stopping) {
		if (bt->n > 0)
			release(bt); /* stopping: the claim goes back at once */
		batch_end(bt);
		return;
	}
	jobs = tgm_xcalloc((size_t)bt->n, sizeof(*jobs));
	for (int i = 0; i < bt->n; i++)
		jobs[i] = job_new(bt, i);
	bt->running = bt->n; /* before any job can end */
	for (int i = 0; i < bt->n; i++)
		job_start(jobs[i]);
	free(jobs);
}

/* on_claimed - the claimed updates: work them as a batch (a failed claim waits for a kick) */
static void on_claimed(PGresult *res, const char *err, void *arg)
{
	struct webhookd *wh = arg;
	struct batch *bt;

	if (err) {
		log_warn("claiming updates: %s", err);
		wh->processing = false;
		return;
	}
	bt = tgm_xcalloc(1, sizeof(*bt));
	bt->wh = wh;
	bt->res = PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
	bt->n = PQntuples(res);
	batch_start(bt);
}

/* wh_claim_seconds - how long a claim holds: longer than an update's direct calls
 * (createForumTopic, the card) may take */
int wh_claim_seconds(const struct webhookd *wh)
{
	return 2 * wh->ctx->cfg->telegram.timeout + 10;
}

/* claim - claim the next batch of updates, each the oldest unprocessed of its chat */
static void claim(struct webhookd *wh)
{
	char secs[16];
	const char *params[1] = { secs };

	snprintf(secs, sizeof(secs), "%d", wh_claim_seconds(wh));
	wh->processing = true;
	wh->kick_again = false;
	tgm_pg_query(wh->ctx->db, claim_sql, 1, params, on_claimed, wh);
}

void wh_process_kick(struct webhookd *wh)
{
	if (wh->processing) {
		wh->kick_again = true;
		return;
	}
	if (wh->bots_loaded && !wh->ctx->stopping)
		claim(wh);
}
