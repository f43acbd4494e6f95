/*
 * refunds.c - POST /v1/bots/{id}/payments/{payment_id}/refund: a bot owner refunds a
 * Telegram Stars payment (docs/billing.md). Telegram's refundStarPayment returns the
 * Stars to the user; then bd_star_refund takes the payment's credits back through the
 * ledger, once (the refunded_payment update Telegram sends afterwards, or a second call,
 * takes nothing more). A payment by card is refunded in Stripe, whose charge.refunded
 * event does the same (422 here).
 */
#include "gatewayd/gatewayd.h"
#include "common/crypto.h"
#include "common/json.h"
#include "common/telegram.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFUND_TIMEOUT_MS 10000

/* the payment of the caller's bot: its kind, charge, user, the bot's sealed token */
static const char find_sql[] =
	"SELECT p.kind, coalesce(p.telegram_charge_id, ''), p.user_id, b.token_sealed,"
	" b.telegram_id, p.status, p.refunded_amount >= coalesce(p.amount, 0)"
	" FROM payments p JOIN bots b ON b.id = p.bot_id"
	" WHERE p.id = $3 AND p.bot_id = $1 AND b.tenant_id = $2 AND b.deleted_at IS NULL";

static const char refund_sql[] =
	"SELECT json_build_object('payment_id', $2::bigint, 'outcome', r.outcome,"
	" 'taken', r.taken, 'owed', r.owed) FROM bd_star_refund($1, $3) r";

/* refund - the payment being refunded, while Telegram answers */
struct refund {
	char bot[24], payment[24], *charge;
};

/* refund_free - free the request's refund */
static void refund_free(void *p)
{
	struct refund *rf = p;

	free(rf->charge);
	free(rf);
}

/* on_refunded - Telegram refunded the Stars (or had already): take the credits back */
static void on_refunded(const struct tgm_tg_result *res, void *arg)
{
	struct gw_req *r = arg;
	struct refund *rf = r->data;
	const char *p[3] = { rf->bot, rf->payment, rf->charge };
	char detail[300];

	if (!res->ok && !(res->description && strstr(res->description, "ALREADY_REFUNDED"))) {
		snprintf(detail, sizeof(detail), "Telegram did not refund the payment: %s",
			 res->description ? res->description : "no answer");
		gw_reply_problem(r, 502, "telegram_refused", detail, NULL);
		return;
	}
	gw_query_sql(r, refund_sql, 3, p, gw_on_json);
}

/* on_found - the payment: a Stars payment is refunded at Telegram, else why not */
static void on_found(struct gw_req *r, PGresult *res, const char *err)
{
	struct refund *rf = r->data;
	char aad[64], *token;
	int64_t user = 0;
	yajl_gen g;
	const char *json;
	size_t len;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) != 1) {
		gw_reply_problem(r, 404, "payment_not_found", "no such payment of this bot", NULL);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "stars") != 0 || !*PQgetvalue(res, 0, 1) ||
	    strcmp(PQgetvalue(res, 0, 5), "paid") != 0) {
		gw_reply_problem(r, 422, "not_refundable",
				 "only a paid Telegram Stars payment is"
				 " refunded here; a card payment is refunded in Stripe",
				 NULL);
		return;
	}
	snprintf(aad, sizeof(aad), "bot:%s:token", PQgetvalue(res, 0, 4));
	token = tgm_open(r->gw->ctx->secret_key, PQgetvalue(res, 0, 3), aad, NULL);
	if (token == NULL) {
		gw_reply_problem(r, 502, "telegram_unreachable",
				 "the bot's token does not open"
				 " (security.secret_key changed?)",
				 NULL);
		return;
	}
	rf->charge = tgm_xstrdup(PQgetvalue(res, 0, 1));
	tgm_parse_int64(PQgetvalue(res, 0, 2), &user);
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "user_id", user);
	tgm_jgen_kstr(g, "telegram_payment_charge_id", rf->charge);
	yajl_gen_map_close(g);
	json = tgm_jgen_text(g, &len);
	tgm_tg_call(r->gw->httpc, r->gw->ctx->cfg->telegram.api_url, token, "refundStarPayment",
		    json, len, REFUND_TIMEOUT_MS, on_refunded, r);
	yajl_gen_free(g);
	memset(token, 0, strlen(token));
	free(token);
}

void gw_refunds_create(struct gw_req *r)
{
	struct refund *rf = tgm_xcalloc(1, sizeof(*rf));
	char tenant[24];
	const char *p[3] = { rf->bot, tenant, rf->payment };
	int64_t bot, payment;

	r->data = rf;
	r->data_free = refund_free;
	if (!gw_path_id(r, "id", &bot) || !gw_path_id(r, "payment_id", &payment)) {
		gw_reply_problem(r, 404, "payment_not_found", "no such payment of this bot", NULL);
		return;
	}
	tgm_i64(rf->bot, sizeof(rf->bot), bot);
	tgm_i64(rf->payment, sizeof(rf->payment), payment);
	gw_tenant_param(r, tenant);
	gw_query_sql(r, find_sql, 3, p, on_found);
}
