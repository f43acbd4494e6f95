/*
 * job.c - one handed-over Telegram update in billingd's hands (struct bd_job): made
 * from the claimed row, finished by the step that acts on it (bd_job_sql: a closing
 * statement, then the notices are looked at; bd_job_say: a catalog text and an
 * outcome; bd_job_retry: later), then freed, and its lane goes on (work.c). A
 * stopping billingd gives back an update it did not finish.
 */
#include "billingd/billingd.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char retry_sql[] =
	"UPDATE tg_updates SET billing_claimed_until = now() + make_interval(secs => $2::int),"
	" billing_outcome = $3 WHERE seq = $1 AND billing_done_at IS NULL";

static const char say_sql[] =
	"SELECT CASE WHEN bd_say_finish($1, $2, '{}', $3) THEN $4::bigint ELSE 0 END";

/* job_free - free a job and what it holds */
static void job_free(struct bd_job *j)
{
	if (j->update)
		yajl_tree_free(j->update);
	if (j->settings)
		yajl_tree_free(j->settings);
	free(j->token_sealed);
	free(j->username);
	free(j->currency);
	free(j->label);
	free(j->stripe_price);
	free(j->customer);
	free(j->first_name);
	free(j);
}

static const char give_back_sql[] =
	"UPDATE tg_updates SET billing_claimed_until = NULL WHERE seq = $1"
	" AND billing_done_at IS NULL";

/* on_given_back - the lease dropped (or not: then it runs out) */
static void on_given_back(PGresult *res, const char *err, void *arg)
{
	(void)res;
	(void)arg;
	if (err)
		log_warn("a claimed update was not given back (its lease runs out): %s", err);
}

/* give_back - a stopping billingd ends a job it did not finish: another billingd (or
 * the next start) may take the update at once instead of after its 60 s lease; drain
 * waits for the statement, on the daemon's own connection */
static void give_back(struct bd_job *j)
{
	char seq[24];
	const char *p[1] = { seq };

	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	tgm_pg_query(j->bd->ctx->db, give_back_sql, 1, p, on_given_back, NULL);
}

void bd_job_done(struct bd_job *j)
{
	struct billingd *bd = j->bd;
	bool fast = j->fast;

	if (bd->ctx->stopping)
		give_back(j);
	job_free(j);
	bd_work_next(bd, fast);
}

struct bd_job *bd_job_new(struct billingd *bd, PGresult *res)
{
	struct bd_job *j = tgm_xcalloc(1, sizeof(*j));
	const char *payload = PQgetvalue(res, 0, 3), *settings = PQgetvalue(res, 0, 4);
	int64_t attempts = 0;
	char err[128];

	j->bd = bd;
	tgm_parse_int64(PQgetvalue(res, 0, 0), &j->seq);
	tgm_parse_int64(PQgetvalue(res, 0, 1), &j->bot_id);
	tgm_parse_int64(PQgetvalue(res, 0, 2), &attempts);
	j->attempts = (int)attempts;
	j->update = tgm_json_parse(payload, strlen(payload), strlen(payload) + 1,
				   TGM_JSON_MAX_DEPTH, err, sizeof(err));
	j->settings = tgm_json_parse(settings, strlen(settings), strlen(settings) + 1,
				     TGM_JSON_MAX_DEPTH, err, sizeof(err));
	j->token_sealed = tgm_xstrdup(PQgetvalue(res, 0, 5));
	tgm_parse_int64(PQgetvalue(res, 0, 6), &j->tg_id);
	j->username = tgm_xstrdup(PQgetvalue(res, 0, 7));
	return j;
}

/* job_q - a query of a job, with what it is for the log */
struct job_q {
	struct bd_job *j;
	const char *what;
};

/* on_job_sql - a job's closing query is done: ring, go on */
static void on_job_sql(PGresult *res, const char *err, void *arg)
{
	struct job_q *q = arg;
	struct bd_job *j = q->j;
	int64_t bot = 0;

	if (err)
		log_warn("bot=%lld update=%lld: %s: %s (tried again later)", (long long)j->bot_id,
			 (long long)j->seq, q->what, err);
	else if (PQntuples(res) == 1 && tgm_parse_int64(PQgetvalue(res, 0, 0), &bot) && bot)
		bd_notice_kick(j->bd);
	free(q);
	bd_job_done(j);
}

void bd_job_sql(struct bd_job *j, const char *what, const char *sql, int n,
		const char *const *params)
{
	struct job_q *q = tgm_xcalloc(1, sizeof(*q));

	q->j = j;
	q->what = what;
	tgm_pg_query(j->bd->ctx->db, sql, n, params, on_job_sql, q);
}

void bd_job_retry(struct bd_job *j, int seconds, const char *why)
{
	char seq[24], secs[16];
	const char *params[3] = { seq, secs, why };

	log_info("bot=%lld update=%lld: again in %d s: %s", (long long)j->bot_id, (long long)j->seq,
		 seconds, why);
	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	snprintf(secs, sizeof(secs), "%d", seconds);
	bd_job_sql(j, "postponing", retry_sql, 3, params);
}

void bd_job_say(struct bd_job *j, const char *name, const char *outcome)
{
	char seq[24], bot[24];
	const char *params[4] = { seq, name, outcome, bot };

	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	snprintf(bot, sizeof(bot), "%lld", (long long)j->bot_id);
	bd_job_sql(j, outcome, say_sql, 4, params);
}
