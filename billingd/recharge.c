/*
 * recharge.c - auto-recharge: a debit that left a balance under the user's threshold
 * made a recharges row (the ledger trigger in sql/008_billing.sql, once per crossing);
 * here it is carried out: an off-session PaymentIntent with the saved card, confirmed
 * at once (Idempotency-Key from the row, so a retry never charges twice). Success
 * grants (key: the PaymentIntent, as its webhook would); a decline or
 * authentication_required sends the user a Checkout link instead and says why: the
 * reason is recorded as a catalog name (recharge_why_*) and its argument (the decline
 * code, the PaymentIntent's status), worded when the notice is rendered (render.c), in
 * the user's language.
 * Stripe unreachable: the row's lease runs out and it is tried again.
 */
#include "billingd/billingd.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTEMPTS 5

static const char claim_sql[] =
	"SELECT id, bot, usr, product, price, currency, coalesce(customer, ''),"
	" coalesce(payment_method, ''), username, label, coalesce(stripe_price, ''), attempts"
	" FROM bd_recharge_claim() WHERE id IS NOT NULL";
static const char paid_sql[] = "SELECT $4::bigint * bd_recharge_paid($1, $2, $3)::int";
static const char link_sql[] =
	"SELECT $6::bigint * bd_recharge_link($1, $2, $3::jsonb, $4, $5)::int";

struct rc {
	struct billingd *bd;
	void (*done)(struct billingd *bd);
	int64_t id, bot, user, product, price, attempts;
	char *col[12];   /* the claimed row as text */
	const char *why; /* why it could not be charged: a catalog name, recharge_why_* */
	char *why_args;  /* that text's {placeholders} as a JSON object, or NULL */
};

/* rc_free - free an attempt */
static void rc_free(struct rc *rc)
{
	for (size_t i = 0; i < sizeof(rc->col) / sizeof(rc->col[0]); i++)
		free(rc->col[i]);
	free(rc->why_args);
	free(rc);
}

/* on_given_back - the lease dropped (or not: then it runs out) */
static void on_given_back(PGresult *res, const char *err, void *arg)
{
	(void)res;
	(void)arg;
	if (err)
		log_warn("a claimed recharge was not given back (its lease runs out): %s", err);
}

/* rc_end - the attempt is over for now: free it, go on with done. A stopping billingd
 * gives a recharge it did not finish back at once (its Stripe calls carry idempotency
 * keys, so whoever takes it next cannot charge twice) */
static void rc_end(struct rc *rc)
{
	struct billingd *bd = rc->bd;
	void (*done)(struct billingd *) = rc->done;

	if (bd->ctx->stopping) {
		char id[24];
		const char *p[1] = { id };

		snprintf(id, sizeof(id), "%lld", (long long)rc->id);
		tgm_pg_query(bd->ctx->db,
			     "UPDATE recharges SET claimed_until = NULL"
			     " WHERE id = $1 AND status = 'pending'",
			     1, p, on_given_back, NULL);
	}
	rc_free(rc);
	done(bd);
}

/* on_recorded - the outcome is committed: ring, then the next attempt */
static void on_recorded(PGresult *res, const char *err, void *arg)
{
	struct rc *rc = arg;
	struct billingd *bd = rc->bd;
	void (*done)(struct billingd *) = rc->done;
	int64_t bot = 0;

	if (err)
		log_warn("recharge %lld: %s (tried again later)", (long long)rc->id, err);
	else if (PQntuples(res) == 1 && tgm_parse_int64(PQgetvalue(res, 0, 0), &bot) && bot)
		bd_notice_kick(bd);
	rc_free(rc);
	if (bd->ctx->stopping)
		done(bd);
	else
		bd_recharge_step(bd, done); /* the next one */
}

/* link - finish with a Checkout link (session NULL: none could be made) and why */
static void link(struct rc *rc, const char *session, const char *url)
{
	char id[24];
	const char *params[6] = { id, rc->why, rc->why_args, session, url, rc->col[1] };

	log_info("bot=%lld user=%lld: recharge %lld: %s %s", (long long)rc->bot,
		 (long long)rc->user, (long long)rc->id, rc->why, rc->why_args ? rc->why_args : "");
	snprintf(id, sizeof(id), "%lld", (long long)rc->id);
	tgm_pg_query(rc->bd->ctx->db, link_sql, 6, params, on_recorded, rc);
}

/* on_session - the Checkout Session for the fallback link */
static void on_session(const struct tgm_stripe_result *r, void *arg)
{
	struct rc *rc = arg;
	const char *id = r->ok ? tgm_json_get_str(r->obj, "id") : NULL;
	const char *url = r->ok ? tgm_json_get_str(r->obj, "url") : NULL;

	rc->bd->inflight--;
	if (rc->bd->ctx->stopping) { /* the lease runs out: tried again after a restart */
		rc_end(rc);
		return;
	}
	if (id == NULL || url == NULL)
		log_warn("recharge %lld: no Checkout Session: %s", (long long)rc->id,
			 r->message ? r->message : "?");
	link(rc, id && url ? id : NULL, id && url ? url : NULL);
}

/* offer_checkout - the card cannot be charged off-session (why: a catalog name, its
 * {key} filled by value when key is not NULL): a Checkout link instead */
static void offer_checkout(struct rc *rc, const char *why, const char *key_name, const char *value)
{
	struct tgm_stripe_conf conf;
	struct tgm_buf f;
	char key[64];

	rc->why = why;
	if (key_name) {
		yajl_gen g = tgm_jgen_new();

		yajl_gen_map_open(g);
		tgm_jgen_kstr(g, key_name, value);
		yajl_gen_map_close(g);
		rc->why_args = tgm_xstrdup(tgm_jgen_text(g, NULL));
		yajl_gen_free(g);
	}
	if (!bd_stripe_conf(rc->bd, &conf) || *rc->col[6] == '\0') {
		link(rc, NULL, NULL);
		return;
	}
	tgm_buf_init(&f);
	bd_checkout_form(&f, 0, rc->bot, rc->col[8], rc->user, rc->product, rc->col[9], rc->price,
			 rc->col[5], rc->col[10], rc->col[6]);
	snprintf(key, sizeof(key), "tgm-recharge-checkout-%lld", (long long)rc->id);
	rc->bd->inflight++;
	tgm_stripe_call(rc->bd->http, &conf, "POST", "/v1/checkout/sessions", f.p, key, on_session,
			rc);
	tgm_buf_free(&f);
}

/* declined - a refused off-session payment: a Checkout link, and why */
static void declined(struct rc *rc, const struct tgm_stripe_result *r)
{
	if (r->code && strcmp(r->code, "authentication_required") == 0)
		offer_checkout(rc, "recharge_why_auth", NULL, NULL);
	else if (r->type && strcmp(r->type, "card_error") == 0)
		offer_checkout(rc, "recharge_why_declined", "code",
			       r->decline_code ? r->decline_code
			       : r->code       ? r->code
					       : "declined");
	else
		offer_checkout(rc, "recharge_why_failed", NULL, NULL);
}

/* on_intent - the off-session PaymentIntent's answer */
static void on_intent(const struct tgm_stripe_result *r, void *arg)
{
	struct rc *rc = arg;
	const char *status = r->ok ? tgm_json_get_str(r->obj, "status") : NULL;
	const char *pi = r->ok ? tgm_json_get_str(r->obj, "id") : NULL;
	char id[24], amount[24];
	int64_t received = rc->price;
	const char *params[4] = { id, pi, amount, rc->col[1] };

	rc->bd->inflight--;
	if (rc->bd->ctx->stopping || (!r->ok && r->retry && rc->attempts < MAX_ATTEMPTS)) {
		log_warn("recharge %lld: %s (tried again later)", (long long)rc->id,
			 r->message ? r->message : "?");
		rc_end(rc); /* the lease runs out: the same key again */
		return;
	}
	if (pi && status && strcmp(status, "succeeded") == 0) {
		tgm_json_get_int(r->obj, "amount_received", &received);
		snprintf(id, sizeof(id), "%lld", (long long)rc->id);
		snprintf(amount, sizeof(amount), "%lld", (long long)received);
		tgm_pg_query(rc->bd->ctx->db, paid_sql, 4, params, on_recorded, rc);
		return;
	}
	if (r->ok)
		offer_checkout(rc, "recharge_why_confirm", "status", status ? status : "unknown");
	else
		declined(rc, r);
}

/* charge - an off-session PaymentIntent with the saved card, confirmed now */
static void charge(struct rc *rc)
{
	struct tgm_stripe_conf conf;
	struct tgm_buf f;
	char key[64];

	bd_stripe_conf(rc->bd, &conf);
	tgm_buf_init(&f);
	tgm_stripe_form_addi(&f, "amount", rc->price);
	tgm_stripe_form_add(&f, "currency", rc->col[5]);
	tgm_stripe_form_add(&f, "customer", rc->col[6]);
	tgm_stripe_form_add(&f, "payment_method", rc->col[7]);
	tgm_stripe_form_add(&f, "off_session", "true");
	tgm_stripe_form_add(&f, "confirm", "true");
	tgm_stripe_form_add(&f, "metadata[tgm_bot]", rc->col[1]);
	tgm_stripe_form_add(&f, "metadata[tgm_user]", rc->col[2]);
	tgm_stripe_form_add(&f, "metadata[tgm_product]", rc->col[3]);
	tgm_stripe_form_add(&f, "metadata[tgm_kind]", "recharge");
	tgm_stripe_form_add(&f, "metadata[tgm_recharge]", rc->col[0]);
	snprintf(key, sizeof(key), "tgm-recharge-%lld", (long long)rc->id);
	rc->bd->inflight++;
	tgm_stripe_call(rc->bd->http, &conf, "POST", "/v1/payment_intents", f.p, key, on_intent,
			rc);
	tgm_buf_free(&f);
}

/* on_claimed - the attempt claimed (or none due) */
static void on_claimed(PGresult *res, const char *err, void *arg)
{
	struct rc *rc = arg;
	struct tgm_stripe_conf conf;

	if (err || PQntuples(res) != 1) {
		if (err)
			log_warn("claiming recharges: %s", err);
		rc_end(rc);
		return;
	}
	for (int i = 0; i < 12; i++)
		rc->col[i] = tgm_xstrdup(PQgetvalue(res, 0, i));
	tgm_parse_int64(rc->col[0], &rc->id);
	tgm_parse_int64(rc->col[1], &rc->bot);
	tgm_parse_int64(rc->col[2], &rc->user);
	tgm_parse_int64(rc->col[3], &rc->product);
	tgm_parse_int64(rc->col[4], &rc->price);
	tgm_parse_int64(rc->col[11], &rc->attempts);
	if (!bd_stripe_conf(rc->bd, &conf))
		offer_checkout(rc, "recharge_why_no_setup", NULL, NULL);
	else if (*rc->col[7] == '\0')
		offer_checkout(rc, "recharge_why_no_card", NULL, NULL);
	else
		charge(rc);
}

void bd_recharge_step(struct billingd *bd, void (*done)(struct billingd *bd))
{
	struct rc *rc = tgm_xcalloc(1, sizeof(*rc));

	rc->bd = bd;
	rc->done = done;
	tgm_pg_query(bd->ctx->db, claim_sql, 0, NULL, on_claimed, rc);
}
