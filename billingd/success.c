/*
 * success.c - the user is back from Checkout: its success page is the bot's deep link
 * "https://t.me/<bot>?start=paid_<seq>", so Telegram sends "/start paid_<seq>". The
 * Checkout Session made for update <seq> (of the same user) is retrieved from Stripe
 * and fulfilled exactly as its webhook would fulfil it (bd_return in SQL: the same
 * ledger key), so the purchase is granted once whether the user or the webhook comes
 * first (docs/stripe.md section 8, "success page racing the webhook").
 */
#include "billingd/billingd.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_S 5
#define REF_DIGITS 18

static const char session_sql[] = "SELECT bd_return_session($1, $2)";
static const char return_sql[] =
	"SELECT CASE WHEN bd_return($1, $2::jsonb) THEN $3::bigint ELSE 0 END";

/* fulfil - bd_return with the Session's JSON text (NULL: there is none) */
static void fulfil(struct bd_job *j, const char *session_json)
{
	char seq[24], bot[24];
	const char *params[3] = { seq, session_json, bot };

	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	snprintf(bot, sizeof(bot), "%lld", (long long)j->bot_id);
	bd_job_sql(j, "back from Checkout", return_sql, 3, params);
}

/* on_session - the Session as Stripe has it now: fulfil from it */
static void on_session(const struct tgm_stripe_result *r, void *arg)
{
	struct bd_job *j = arg;
	yajl_gen g;

	j->bd->inflight--;
	if (j->bd->ctx->stopping) {
		bd_job_done(j);
		return;
	}
	if (!r->ok) {
		if (r->retry) {
			bd_job_retry(j, RETRY_S, r->message ? r->message : "stripe");
			return;
		}
		log_warn("bot=%lld update=%lld: retrieving a Checkout Session: HTTP %ld %s",
			 (long long)j->bot_id, (long long)j->seq, r->status,
			 r->message ? r->message : "");
		fulfil(j, NULL);
		return;
	}
	g = tgm_jgen_new();
	tgm_jgen_tree(g, r->obj);
	fulfil(j, tgm_jgen_text(g, NULL));
	yajl_gen_free(g);
}

/* on_found - the Session the return names (or none): retrieve it */
static void on_found(PGresult *res, const char *err, void *arg)
{
	struct bd_job *j = arg;
	struct tgm_stripe_conf conf;
	char path[320];

	if (err) {
		log_warn("bot=%lld: back from Checkout: %s", (long long)j->bot_id, err);
		bd_job_done(j);
		return;
	}
	if (PQgetisnull(res, 0, 0) || !bd_stripe_conf(j->bd, &conf)) {
		fulfil(j, NULL);
		return;
	}
	snprintf(path, sizeof(path), "/v1/checkout/sessions/%s", PQgetvalue(res, 0, 0));
	j->bd->inflight++;
	tgm_stripe_call(j->bd->http, &conf, "GET", path, NULL, NULL, on_session, j);
}

void bd_success(struct bd_job *j, const char *ref)
{
	char seq[24], *digits;
	const char *params[2] = { seq, NULL };
	size_t n = strspn(ref, "0123456789");

	if (n == 0 || n > REF_DIGITS || (ref[n] != '\0' && ref[n] != ' ')) {
		fulfil(j, NULL);
		return;
	}
	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	params[1] = digits = tgm_xstrndup(ref, n);
	tgm_pg_query(j->bd->ctx->db, session_sql, 2, params, on_found, j);
	free(digits);
}
