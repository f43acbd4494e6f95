/*
 * menu_billing.c - the admin menu's Billing (docs/admin-centre.md): revenue of the last
 * day, week and month, the payments (b: every one that is not an open checkout; bf: the
 * failed and expired), paged, newest first; a payment's card (bp) with its refunds and a
 * Refund button while something is left to refund, and the confirmation (br) whose Yes
 * starts the refund (rx, menu_refund.c).
 */
#include "webhookd/menu.h"
#include "common/money.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

/* clang-format off */
#define REVENUE(since) \
	"(SELECT coalesce(jsonb_object_agg(currency, net), '{}') FROM (SELECT currency," \
	" sum(amount - refunded_amount) AS net FROM payments WHERE bot_id = $1" \
	" AND status = 'paid' AND paid_at > now() - interval '" since "' GROUP BY currency) x)::text"

/* the revenue (net of refunds) per currency of the last day, week and month, then the
 * page $2 of payments ($3 true: the failed only), one a row (none: one row of NULLs) */
static const char list_sql[] =
	"WITH r AS (SELECT"
	" " REVENUE("1 day") ", " REVENUE("7 days") ", " REVENUE("30 days") "),"
	" l AS (SELECT p.id, p.status, coalesce(p.amount, 0) AS amount,"
	"  coalesce(p.currency, 'usd') AS currency, u.first_name, p.refunded_amount"
	"  FROM payments p JOIN bot_users u ON u.bot_id = p.bot_id AND u.user_id = p.user_id"
	"  WHERE p.bot_id = $1 AND CASE WHEN $3::boolean THEN p.status IN ('failed', 'expired')"
	"   ELSE p.status <> 'open' END"
	"  ORDER BY p.id DESC LIMIT " WH_MENU_PAGE_TEXT " + 1 OFFSET $2::int * " WH_MENU_PAGE_TEXT ")"
	" SELECT r.*, l.* FROM r LEFT JOIN l ON true ORDER BY l.id DESC";
/* clang-format on */

static const char card_sql[] =
	"SELECT p.kind, p.status, coalesce(p.amount, 0), coalesce(p.currency, 'usd'), p.credits,"
	" p.refunded_amount, p.refunded_credits, p.user_id, u.first_name,"
	" coalesce(pr.label, ''), to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
	" coalesce(p.failure, '')"
	" FROM payments p JOIN bot_users u ON u.bot_id = p.bot_id AND u.user_id = p.user_id"
	" LEFT JOIN products pr ON pr.id = p.product_id"
	" WHERE p.bot_id = $1 AND p.id = $2";

/* on_list - list_sql answered: the revenue, a button per payment, pages, Failed, Back */
static void on_list(struct wh_job *j, PGresult *res, const char *err)
{
	char text[800], label[200], money[64], day[200], week[200], month[200];
	const char *vars[] = { "day", day, "week", week, "month", month, NULL };
	bool failed = strcmp(j->menu.view, "bf") == 0;
	int64_t id = 0, amount = 0;
	int n;

	if (err || PQntuples(res) < 1) {
		wh_menu_error(j, err ? err : "payments: no rows");
		return;
	}
	n = PQgetisnull(res, 0, 3) ? 0 : PQntuples(res);
	wh_menu_money(day, sizeof(day), PQgetvalue(res, 0, 0));
	wh_menu_money(week, sizeof(week), PQgetvalue(res, 0, 1));
	wh_menu_money(month, sizeof(month), PQgetvalue(res, 0, 2));
	wh_menu_fill(j, text, sizeof(text), failed ? "menu_failed_title" : "menu_billing_title",
		     vars);
	wh_menu_begin(j, text);
	for (int i = 0; i < n && i < WH_MENU_PAGE; i++) {
		tgm_parse_int64(PQgetvalue(res, i, 3), &id);
		tgm_parse_int64(PQgetvalue(res, i, 5), &amount);
		tgm_money(money, sizeof(money), amount, PQgetvalue(res, i, 6));
		snprintf(label, sizeof(label), "#%lld · %s · %s%s · %s", (long long)id, money,
			 PQgetvalue(res, i, 4), strcmp(PQgetvalue(res, i, 8), "0") ? " ↩" : "",
			 PQgetvalue(res, i, 7));
		wh_menu_row(j);
		wh_menu_key(j, label, "bp", id, 0);
	}
	wh_menu_pages(j, j->menu.view, 0, n > WH_MENU_PAGE);
	if (!failed)
		wh_menu_key(j, wh_menu_t(j, "menu_payments_failed"), "bf", 0, 0);
	wh_menu_end(j, failed ? "b" : "h", 0);
	wh_menu_done(j, "admin menu: payments");
}

/* wh_menu_billing - b: revenue and payments; bf: the failed payments */
void wh_menu_billing(struct wh_job *j)
{
	char p[3][24];
	const char *params[3] = { p[0], p[1], strcmp(j->menu.view, "bf") == 0 ? "t" : "f" };

	tgm_i64(p[0], 24, j->bot_id);
	tgm_i64(p[1], 24, j->menu.page);
	wh_job_query(j, list_sql, 3, params, on_list);
}

/* on_card - card_sql answered: the payment's card (bp) or the refund's confirmation (br) */
static void on_card(struct wh_job *j, PGresult *res, const char *err)
{
	char text[1200], id[24], money[64], refunded[64];
	const char *vars[] = { "id",      id,    "kind",    NULL, "status",   NULL,
			       "amount",  money, "credits", NULL, "refunded", refunded,
			       "name",    NULL,  "product", NULL, "at",       NULL,
			       "failure", NULL,  NULL };
	int64_t amount = 0, back = 0, user = 0;
	bool confirm = strcmp(j->menu.view, "br") == 0, open;

	if (err) {
		wh_menu_error(j, err);
		return;
	}
	if (PQntuples(res) != 1) {
		wh_menu_nothing(j);
		return;
	}
	tgm_i64(id, sizeof(id), j->menu.arg);
	vars[3] = PQgetvalue(res, 0, 0);
	vars[5] = PQgetvalue(res, 0, 1);
	tgm_parse_int64(PQgetvalue(res, 0, 2), &amount);
	tgm_money(money, sizeof(money), amount, PQgetvalue(res, 0, 3));
	vars[9] = PQgetvalue(res, 0, 4);
	tgm_parse_int64(PQgetvalue(res, 0, 5), &back);
	tgm_money(refunded, sizeof(refunded), back, PQgetvalue(res, 0, 3));
	tgm_parse_int64(PQgetvalue(res, 0, 7), &user);
	vars[13] = PQgetvalue(res, 0, 8);
	vars[15] = PQgetvalue(res, 0, 9);
	vars[17] = PQgetvalue(res, 0, 10);
	vars[19] = PQgetvalue(res, 0, 11);
	open = strcmp(vars[5], "paid") == 0 && back < amount;
	wh_menu_begin(j, wh_menu_fill(j, text, sizeof(text),
				      confirm && open ? "menu_refund_confirm" : "menu_payment_card",
				      vars));
	if (confirm && open) {
		wh_menu_key(j, wh_menu_t(j, "menu_refund_yes"), "rx", j->menu.arg, 0);
		wh_menu_end(j, "bp", j->menu.arg);
	} else {
		if (open)
			wh_menu_key(j, wh_menu_t(j, "menu_refund"), "br", j->menu.arg, 0);
		wh_menu_key(j, wh_menu_t(j, "menu_payment_user"), "up", user, 0);
		wh_menu_end(j, "b", 0);
	}
	wh_menu_done(j, confirm ? "admin menu: refund asked" : "admin menu: payment");
}

/* wh_menu_payment - bp: a payment's card; br: the refund's confirmation */
void wh_menu_payment(struct wh_job *j)
{
	char p[2][24];
	const char *params[2] = { p[0], p[1] };

	wh_menu_params(j, p[0], p[1]);
	wh_job_query(j, card_sql, 2, params, on_card);
}
