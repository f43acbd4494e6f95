/*
 * stars.c - a Telegram Stars pre_checkout_query: checked against the products still
 * on sale (bd_precheckout in SQL) and answered at once with answerPreCheckoutQuery, a
 * direct call (Telegram wants the answer within 10 seconds; it cannot wait in the
 * outbound queue). The grant comes later, with successful_payment (tgjob.c).
 */
#include "billingd/billingd.h"
#include "common/crypto.h"
#include "common/json.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_TIMEOUT_MS 8000

static const char check_sql[] = "SELECT query_id, ok FROM bd_precheckout($1)";
static const char finish_sql[] = "SELECT bd_finish($1, $2)::int * 0";

/* finish - billingd is done with the query (outcome for people) */
static void finish(struct bd_job *j, const char *outcome)
{
	char seq[24];
	const char *params[2] = { seq, outcome };

	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	bd_job_sql(j, "pre-checkout", finish_sql, 2, params);
}

/* on_answered - Telegram took the answer (or not: too late to retry) */
static void on_answered(const struct tgm_tg_result *r, void *arg)
{
	struct bd_job *j = arg;
	char outcome[200];

	j->bd->inflight--;
	if (j->bd->ctx->stopping) {
		bd_job_done(j);
		return;
	}
	if (r->ok)
		snprintf(outcome, sizeof(outcome), "pre-checkout answered");
	else
		snprintf(outcome, sizeof(outcome), "pre-checkout not answered: %s",
			 r->description ? r->description : "failed");
	log_info("bot=%lld user=%lld: %s", (long long)j->bot_id, (long long)j->user_id, outcome);
	finish(j, outcome); /* too late to try again: Telegram gave up after 10 s */
}

/* answer - answerPreCheckoutQuery with ok, or the error to show */
static void answer(struct bd_job *j, const char *query_id, bool ok, const char *error)
{
	const struct tgm_config *cfg = j->bd->ctx->cfg;
	yajl_gen g = tgm_jgen_new();
	char aad[64], *token;
	const char *json;
	size_t len;

	snprintf(aad, sizeof(aad), "bot:%lld:token", (long long)j->tg_id);
	token = tgm_open(j->bd->ctx->secret_key, j->token_sealed, aad, NULL);
	if (token == NULL) {
		yajl_gen_free(g);
		finish(j, "failed: the bot's token does not open");
		return;
	}
	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "pre_checkout_query_id", query_id);
	tgm_jgen_kbool(g, "ok", ok);
	if (!ok)
		tgm_jgen_kstr(g, "error_message", error);
	yajl_gen_map_close(g);
	json = tgm_jgen_text(g, &len);
	j->bd->inflight++;
	tgm_tg_call(j->bd->http, cfg->telegram.api_url, token, "answerPreCheckoutQuery", json, len,
		    ANSWER_TIMEOUT_MS, on_answered, j);
	memset(token, 0, strlen(token));
	free(token);
	yajl_gen_free(g);
}

/* on_checked - the product check: answer with it */
static void on_checked(PGresult *res, const char *err, void *arg)
{
	struct bd_job *j = arg;
	const char *path[] = { "pre_checkout_query", "from", "language_code", NULL };
	yajl_val code = yajl_tree_get(j->update, path, yajl_t_string);
	char lang[TGM_TEXT_LANG];

	if (err || PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		log_warn("bot=%lld: pre-checkout: %s", (long long)j->bot_id,
			 err ? err : "no query");
		finish(j, "failed: not a pre-checkout query");
		return;
	}
	answer(j, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1)[0] == 't',
	       tgm_text_bot(j->settings, "precheckout_gone",
			    tgm_text_lang(j->settings, code ? YAJL_GET_STRING(code) : NULL, lang)));
}

void bd_stars_precheckout(struct bd_job *j)
{
	char seq[24];
	const char *params[1] = { seq };

	if (!j->bd->ctx->has_secret_key) {
		finish(j, "failed: [security] secret_key is not set (bot tokens are sealed)");
		return;
	}
	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	tgm_pg_query(j->bd->ctx->db, check_sql, 1, params, on_checked, j);
}
