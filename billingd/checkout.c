/*
 * checkout.c - a purchase (/buy<N>, a buy:<id> button) and /billing: the user's Stripe
 * customer is made once (before the first Checkout, so the card is saved to it), then
 * a Checkout Session (mode=payment, the card kept for off-session use) or a Billing
 * Portal session, and the link goes to the user as a URL button. Every POST carries an
 * Idempotency-Key derived from the update (or the user, for the customer): a retry
 * after a crash or a timeout gets the first answer back, never a second session.
 * Stripe unreachable: the update is tried again later; Stripe refusing: the user is
 * told card payment is unavailable (and still gets the Stars invoice, if any).
 */
#include "billingd/billingd.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_S 5

static const char product_sql[] =
	"SELECT p.id, p.label, p.price, p.currency, coalesce(p.stripe_price_id, ''),"
	" p.stars_price IS NOT NULL, coalesce(s.customer_id, '')"
	" FROM bd_product($1, $3) p"
	" LEFT JOIN stripe_customers s ON s.bot_id = $1 AND s.user_id = $2";

/* clang-format off */
static const char customer_sql[] =
	"SELECT coalesce((SELECT customer_id FROM stripe_customers"
	" WHERE bot_id = $1 AND user_id = $2), '')";
/* clang-format on */

static const char save_sql[] = "SELECT bd_customer_save($1, $2, $3)";

static const char offer_sql[] =
	"SELECT CASE WHEN bd_offer($1, $2, $3, $4, $5) THEN $6::bigint ELSE 0 END";

static const char portal_sql[] =
	"SELECT CASE WHEN bd_finish($1, 'billing portal') THEN CASE WHEN bd_notice($2, $3,"
	" 'portal', jsonb_build_object('url', $4::text)) > 0 THEN $2::bigint END ELSE 0 END";

typedef void (*step_fn)(struct bd_job *j);

/* id_text - an id as decimal text */
static void id_text(char *out, size_t len, int64_t v)
{
	snprintf(out, len, "%lld", (long long)v);
}

/* offer - finish with the Checkout link (session NULL: none) and the Stars invoice */
static void offer(struct bd_job *j, const char *session, const char *url, const char *note)
{
	char seq[24], product[24], bot[24];
	const char *params[6] = { seq, product, session, url, note, bot };

	id_text(seq, sizeof(seq), j->seq);
	id_text(product, sizeof(product), j->product_id);
	id_text(bot, sizeof(bot), j->bot_id);
	bd_job_sql(j, "offer", offer_sql, 6, params);
}

/* refused - Stripe said no (or a retry would not help): tell the user */
static void refused(struct bd_job *j, const struct tgm_stripe_result *r, const char *what)
{
	log_warn("bot=%lld user=%lld: stripe %s failed: HTTP %ld %s %s", (long long)j->bot_id,
		 (long long)j->user_id, what, r->status, r->code ? r->code : "",
		 r->message ? r->message : "");
	if (j->portal)
		bd_job_say(j, "portal_unavailable", "failed: billing portal");
	else
		offer(j, NULL, NULL, "card_unavailable");
}

/* struct call - a Stripe call of a job and the step after it */
struct call {
	struct bd_job *j;
	step_fn next;
	const char *what;
};

/* stripe_post - POST form (freed) to Stripe for a job; cb gets a struct call */
static void stripe_post(struct bd_job *j, const char *path, struct tgm_buf *form, const char *key,
			tgm_stripe_cb cb, step_fn next, const char *what)
{
	struct tgm_stripe_conf conf;
	struct call *c = tgm_xcalloc(1, sizeof(*c));

	c->j = j;
	c->next = next;
	c->what = what;
	bd_stripe_conf(j->bd, &conf);
	j->bd->inflight++;
	tgm_stripe_call(j->bd->http, &conf, "POST", path, form->p ? form->p : "", key, cb, c);
	tgm_buf_free(form);
}

/* failed - a Stripe call did not give what was wanted: later, or tell the user */
static void failed(struct bd_job *j, const struct tgm_stripe_result *r, const char *what)
{
	char why[200];

	if (r->retry && !j->bd->ctx->stopping) {
		snprintf(why, sizeof(why), "stripe %s: %s", what, r->message ? r->message : "");
		bd_job_retry(j, RETRY_S, why);
	} else if (j->bd->ctx->stopping) {
		bd_job_done(j);
	} else {
		refused(j, r, what);
	}
}

/* on_saved - the customer is recorded (the first made wins): go on */
static void on_saved(PGresult *res, const char *err, void *arg)
{
	struct call *c = arg;
	struct bd_job *j = c->j;
	step_fn next = c->next;

	free(c);
	if (err || PQntuples(res) != 1) {
		log_warn("bot=%lld: saving a customer: %s", (long long)j->bot_id, err ? err : "?");
		bd_job_done(j); /* the lease runs out: tried again, same customer key */
		return;
	}
	free(j->customer);
	j->customer = tgm_xstrdup(PQgetvalue(res, 0, 0));
	next(j);
}

/* on_customer - Stripe made the customer: record it */
static void on_customer(const struct tgm_stripe_result *r, void *arg)
{
	struct call *c = arg;
	struct bd_job *j = c->j;
	const char *id = r->ok ? tgm_json_get_str(r->obj, "id") : NULL;
	char bot[24], user[24];
	const char *params[3] = { bot, user, id };

	j->bd->inflight--;
	if (id == NULL) {
		free(c);
		failed(j, r, "customer");
		return;
	}
	id_text(bot, sizeof(bot), j->bot_id);
	id_text(user, sizeof(user), j->user_id);
	tgm_pg_query(j->bd->ctx->db, save_sql, 3, params, on_saved, c);
}

/* with_customer - next(j) once the user has a Stripe customer */
static void with_customer(struct bd_job *j, step_fn next)
{
	struct tgm_buf f;
	char key[96], bot[24], user[24];

	if (j->customer && *j->customer) {
		next(j);
		return;
	}
	id_text(bot, sizeof(bot), j->bot_id);
	id_text(user, sizeof(user), j->user_id);
	tgm_buf_init(&f);
	tgm_stripe_form_add(&f, "name", j->first_name);
	tgm_stripe_form_add(&f, "description", "Telegram user of a tgm bot");
	tgm_stripe_form_add(&f, "metadata[tgm_bot]", bot);
	tgm_stripe_form_add(&f, "metadata[tgm_user]", user);
	snprintf(key, sizeof(key), "tgm-customer-%s-%s", bot, user);
	stripe_post(j, "/v1/customers", &f, key, on_customer, next, "customer");
}

void bd_checkout_form(struct tgm_buf *f, int64_t seq, int64_t bot, const char *username,
		      int64_t user, int64_t product, const char *label, int64_t price,
		      const char *currency, const char *stripe_price, const char *customer)
{
	char b[24], u[24], p[24], ref[64], *url = tgm_xasprintf("https://t.me/%s", username);
	char *success = seq ? tgm_xasprintf("%s?start=paid_%lld", url, (long long)seq)
			    : tgm_xstrdup(url);
	static const char *const meta[] = { "metadata", "payment_intent_data[metadata]" };

	id_text(b, sizeof(b), bot);
	id_text(u, sizeof(u), user);
	id_text(p, sizeof(p), product);
	snprintf(ref, sizeof(ref), "%s:%s", b, u);
	tgm_stripe_form_add(f, "mode", "payment");
	if (stripe_price && *stripe_price) {
		tgm_stripe_form_add(f, "line_items[0][price]", stripe_price);
	} else {
		tgm_stripe_form_add(f, "line_items[0][price_data][currency]", currency);
		tgm_stripe_form_addi(f, "line_items[0][price_data][unit_amount]", price);
		tgm_stripe_form_add(f, "line_items[0][price_data][product_data][name]", label);
	}
	tgm_stripe_form_add(f, "line_items[0][quantity]", "1");
	tgm_stripe_form_add(f, "success_url", success);
	tgm_stripe_form_add(f, "cancel_url", url);
	tgm_stripe_form_add(f, "client_reference_id", ref);
	tgm_stripe_form_add(f, "customer", customer);
	tgm_stripe_form_add(f, "payment_intent_data[setup_future_usage]", "off_session");
	for (size_t i = 0; i < 2; i++) {
		char k[64];

		snprintf(k, sizeof(k), "%s[tgm_bot]", meta[i]);
		tgm_stripe_form_add(f, k, b);
		snprintf(k, sizeof(k), "%s[tgm_user]", meta[i]);
		tgm_stripe_form_add(f, k, u);
		snprintf(k, sizeof(k), "%s[tgm_product]", meta[i]);
		tgm_stripe_form_add(f, k, p);
	}
	free(url);
	free(success);
}

/* on_session - Stripe made the Checkout Session: offer its link */
static void on_session(const struct tgm_stripe_result *r, void *arg)
{
	struct call *c = arg;
	struct bd_job *j = c->j;
	const char *id = r->ok ? tgm_json_get_str(r->obj, "id") : NULL;
	const char *url = r->ok ? tgm_json_get_str(r->obj, "url") : NULL;

	j->bd->inflight--;
	free(c);
	if (id == NULL || url == NULL)
		failed(j, r, "checkout session");
	else
		offer(j, id, url, NULL);
}

/* create_session - a Checkout Session for the job's product */
static void create_session(struct bd_job *j)
{
	struct tgm_buf f;
	char key[96];

	tgm_buf_init(&f);
	bd_checkout_form(&f, j->seq, j->bot_id, j->username, j->user_id, j->product_id, j->label,
			 j->price, j->currency, j->stripe_price, j->customer);
	snprintf(key, sizeof(key), "tgm-checkout-%lld-%lld", (long long)j->bot_id,
		 (long long)j->seq);
	stripe_post(j, "/v1/checkout/sessions", &f, key, on_session, NULL, "checkout session");
}

/* on_product - the product named: offer it (Stripe, Stars or both) */
static void on_product(PGresult *res, const char *err, void *arg)
{
	struct bd_job *j = arg;
	struct tgm_stripe_conf conf;

	if (err) {
		log_warn("bot=%lld: product: %s", (long long)j->bot_id, err);
		bd_job_done(j);
		return;
	}
	if (PQntuples(res) != 1) {
		bd_job_say(j, "no_such_package", "no such product");
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 0), &j->product_id);
	j->label = tgm_xstrdup(PQgetvalue(res, 0, 1));
	tgm_parse_int64(PQgetvalue(res, 0, 2), &j->price);
	j->currency = tgm_xstrdup(PQgetvalue(res, 0, 3));
	j->stripe_price = tgm_xstrdup(PQgetvalue(res, 0, 4));
	j->stars = PQgetvalue(res, 0, 5)[0] == 't';
	j->customer = tgm_xstrdup(PQgetvalue(res, 0, 6));
	if (!bd_stripe_conf(j->bd, &conf))
		offer(j, NULL, NULL, j->stars ? NULL : "cards_not_set_up");
	else
		with_customer(j, create_session);
}

void bd_checkout(struct bd_job *j, const char *ref)
{
	char bot[24], user[24];
	const char *params[3] = { bot, user, ref };

	id_text(bot, sizeof(bot), j->bot_id);
	id_text(user, sizeof(user), j->user_id);
	tgm_pg_query(j->bd->ctx->db, product_sql, 3, params, on_product, j);
}

/* on_portal - Stripe made the portal session: send its link */
static void on_portal(const struct tgm_stripe_result *r, void *arg)
{
	struct call *c = arg;
	struct bd_job *j = c->j;
	const char *url = r->ok ? tgm_json_get_str(r->obj, "url") : NULL;
	char seq[24], bot[24], user[24];
	const char *params[4] = { seq, bot, user, url };

	j->bd->inflight--;
	free(c);
	if (url == NULL) {
		failed(j, r, "billing portal");
		return;
	}
	id_text(seq, sizeof(seq), j->seq);
	id_text(bot, sizeof(bot), j->bot_id);
	id_text(user, sizeof(user), j->user_id);
	bd_job_sql(j, "portal", portal_sql, 4, params);
}

/* create_portal - a Billing Portal session for the customer */
static void create_portal(struct bd_job *j)
{
	struct tgm_buf f;
	char key[96], *url = tgm_xasprintf("https://t.me/%s", j->username);

	tgm_buf_init(&f);
	tgm_stripe_form_add(&f, "customer", j->customer);
	tgm_stripe_form_add(&f, "return_url", url);
	free(url);
	snprintf(key, sizeof(key), "tgm-portal-%lld-%lld", (long long)j->bot_id, (long long)j->seq);
	stripe_post(j, "/v1/billing_portal/sessions", &f, key, on_portal, NULL, "portal");
}

/* on_portal_customer - the user's customer (or none yet) */
static void on_portal_customer(PGresult *res, const char *err, void *arg)
{
	struct bd_job *j = arg;

	if (err || PQntuples(res) != 1) {
		log_warn("bot=%lld: customer: %s", (long long)j->bot_id, err ? err : "?");
		bd_job_done(j);
		return;
	}
	j->customer = tgm_xstrdup(PQgetvalue(res, 0, 0));
	with_customer(j, create_portal);
}

void bd_checkout_portal(struct bd_job *j)
{
	struct tgm_stripe_conf conf;
	char bot[24], user[24];
	const char *params[2] = { bot, user };

	j->portal = true;
	if (!bd_stripe_conf(j->bd, &conf)) {
		bd_job_say(j, "cards_not_set_up", "billing: stripe not configured");
		return;
	}
	id_text(bot, sizeof(bot), j->bot_id);
	id_text(user, sizeof(user), j->user_id);
	tgm_pg_query(j->bd->ctx->db, customer_sql, 2, params, on_portal_customer, j);
}
