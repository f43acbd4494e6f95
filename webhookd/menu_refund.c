/*
 * menu_refund.c - a refund started from the admin menu (rx, after Billing's
 * confirmation): the money goes back first (a card payment: Stripe's POST /v1/refunds
 * for its PaymentIntent, Idempotency-Key tgm-refund-<payment>, so Stripe refunds once
 * however often it is asked; Stars: refundStarPayment, where "already refunded" counts as
 * done), then menu_refund in SQL marks the payment refunded and takes the credits back
 * through the ledger, once (a second press finds it refunded and asks nobody again), with
 * the audit row. A refusal (Stripe's or Telegram's) is told in the toast and nothing
 * changes. The card of the payment is shown again.
 */
#include "webhookd/menu.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/stripe.h"
#include "common/telegram.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

static const char payment_sql[] =
	"SELECT kind, status, coalesce(amount, 0) > refunded_amount, coalesce(payment_intent_id, ''),"
	" coalesce(telegram_charge_id, ''), user_id FROM payments WHERE bot_id = $1 AND id = $2";

static const char apply_sql[] = "SELECT outcome, taken, owed FROM menu_refund($1, $2, $3, $4)";

/* on_applied - menu_refund answered: the payment's card again, the outcome in the toast */
static void on_applied(struct wh_job *j, PGresult *res, const char *err)
{
	if (err) {
		wh_menu_error(j, err); /* the money went back: processed again, it applies once */
		return;
	}
	log_info("bot=%lld payment=%lld: refunded from the admin menu by %lld: %s",
		 (long long)j->bot_id, (long long)j->menu.arg, wh_role_sender(j),
		 PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?");
	j->menu.toast = wh_menu_t(j, PQntuples(res) == 1 &&
						     strcmp(PQgetvalue(res, 0, 0), "refunded") == 0
					     ? "menu_refund_done"
					     : "menu_refund_already");
	wh_menu_show(j, "bp", j->menu.arg);
}

/* apply - the money is back: the ledger and the payment (menu_refund) */
static void apply(struct wh_job *j)
{
	char p[4][24];
	const char *params[4] = { p[0], p[1], p[2], p[3] };

	wh_menu_params(j, p[0], p[1]);
	tgm_i64(p[2], 24, wh_role_sender(j));
	tgm_i64(p[3], 24, j->seq);
	wh_job_query(j, apply_sql, 4, params, on_applied);
}

/* refused - the money did not go back: why, in the toast, and the card again */
static void refused(struct wh_job *j, const char *why)
{
	log_warn("bot=%lld payment=%lld: refund refused: %s", (long long)j->bot_id,
		 (long long)j->menu.arg, why ? why : "no answer");
	j->menu.toast = wh_menu_t(j, "menu_refund_failed");
	wh_menu_show(j, "bp", j->menu.arg);
}

/* on_stripe - Stripe's refund answered */
static void on_stripe(const struct tgm_stripe_result *r, void *arg)
{
	struct wh_job *j = arg;

	j->wh->inflight--;
	if (r->ok || (r->code && strcmp(r->code, "charge_already_refunded") == 0))
		apply(j);
	else if (r->retry) /* no answer: asked again later, under the same key */
		wh_job_postpone(j, WH_RETRY_SECONDS, r->message ? r->message : "Stripe: no answer");
	else
		refused(j, r->message);
}

/* stripe_refund - POST /v1/refunds for the payment's PaymentIntent, the whole of it */
static void stripe_refund(struct wh_job *j, const char *intent)
{
	const struct tgm_config *cfg = j->wh->ctx->cfg;
	struct tgm_stripe_conf conf = { cfg->stripe.api_url, cfg->stripe.secret_key,
					cfg->stripe.api_version, cfg->stripe.timeout * 1000 };
	struct tgm_buf form;
	char key[64];

	if (!cfg->stripe.secret_key || !*cfg->stripe.secret_key || !*intent) {
		refused(j, "Stripe is not configured, or the payment has no PaymentIntent");
		return;
	}
	tgm_buf_init(&form);
	tgm_stripe_form_add(&form, "payment_intent", intent);
	tgm_stripe_form_addi(&form, "metadata[tgm_payment]", j->menu.arg);
	snprintf(key, sizeof(key), "tgm-refund-%lld", (long long)j->menu.arg);
	j->wh->inflight++;
	tgm_stripe_call(j->wh->tg, &conf, "POST", "/v1/refunds", form.p, key, on_stripe, j);
	tgm_buf_free(&form);
}

/* on_stars - refundStarPayment answered */
static void on_stars(const struct tgm_tg_result *r, void *arg)
{
	struct wh_job *j = arg;

	j->wh->inflight--;
	if (r->ok || (r->description && strstr(r->description, "CHARGE_ALREADY_REFUNDED")))
		apply(j);
	else
		refused(j, r->description);
}

/* stars_refund - refundStarPayment(user_id, telegram_payment_charge_id) */
static void stars_refund(struct wh_job *j, int64_t user, const char *charge)
{
	yajl_gen g = tgm_jgen_new();

	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "user_id", user);
	tgm_jgen_kstr(g, "telegram_payment_charge_id", charge);
	yajl_gen_map_close(g);
	wh_reply_direct(j, "refundStarPayment", g, on_stars, j);
}

/* on_payment - payment_sql answered: the payment of this bot, paid and not refunded:
 * its money back; else the card (or nothing) */
static void on_payment(struct wh_job *j, PGresult *res, const char *err)
{
	int64_t user = 0;

	if (err) {
		wh_menu_error(j, err);
		return;
	}
	if (PQntuples(res) != 1) {
		wh_menu_nothing(j);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "paid") != 0 || PQgetvalue(res, 0, 2)[0] != 't') {
		j->menu.toast = wh_menu_t(j, "menu_refund_already");
		wh_menu_show(j, "bp", j->menu.arg);
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 5), &user);
	if (strcmp(PQgetvalue(res, 0, 0), "stars") == 0)
		stars_refund(j, user, PQgetvalue(res, 0, 4));
	else
		stripe_refund(j, PQgetvalue(res, 0, 3));
}

/* wh_menu_refund - rx: refund the payment arg */
void wh_menu_refund(struct wh_job *j)
{
	char p[2][24];
	const char *params[2] = { p[0], p[1] };

	wh_menu_params(j, p[0], p[1]);
	wh_job_query(j, payment_sql, 2, params, on_payment);
}
