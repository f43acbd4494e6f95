/*
 * campaignreport.c - GET /v1/campaigns/{id}/report.csv: one row per recipient of a
 * campaign, in message order: who (bot, user, username, first name), the message with
 * its status now, attempts, Telegram's message id, when it was sent and its last error
 * (kept on the recipient once the message is pruned: sql/functions/campaign_freeze.sql),
 * and the gift's ledger entry with the balance after it. Streamed by csvstream.c
 * (batches of 1,000, each written out before the next is read), once the campaign is
 * found in the caller's tenant.
 */
#include "gatewayd/campaigns.h"
#include "gatewayd/csvstream.h"

#include <stdio.h>

/* clang-format off */
static const char exists_sql[] =
	"SELECT 1 FROM campaigns WHERE id = $1 AND tenant_id = $2";
/* clang-format on */

/* $1 campaign, $2 the cursor: message ids above it */
static const char batch_sql[] =
	"SELECT r.message_id, r.bot_id, r.user_id, coalesce(u.username, ''),"
	" coalesce(u.first_name, ''), coalesce(m.status, r.status),"
	" coalesce(m.attempts, r.attempts),"
	" coalesce(m.telegram_message_id, r.telegram_message_id), coalesce(m.sent_at, r.sent_at),"
	" coalesce(m.last_error, r.last_error), r.ledger_id, r.balance, r.message_id"
	" FROM campaign_recipients r LEFT JOIN messages m ON m.id = r.message_id"
	" LEFT JOIN bot_users u ON u.bot_id = r.bot_id AND u.user_id = r.user_id"
	" WHERE r.campaign_id = $1 AND r.message_id > $2::bigint"
	" AND (m.id IS NOT NULL OR r.status IS NOT NULL) ORDER BY r.message_id"
	" LIMIT 1000";

/* names and errors are others' text: guarded */
static const struct gw_csv_part recipients[] = {
	{ batch_sql, 12, 1u << 3 | 1u << 4 | 1u << 9, "0" },
};

/* on_exists - the campaign is the tenant's: stream its report as campaign-<id>.csv;
 * else 404 */
static void on_exists(struct gw_req *r, PGresult *res, const char *err)
{
	const char *id = tgm_http_param(&r->params, "id"); /* digits: gw_campaigns_path */
	char name[48];

	if (err) {
		gw_reply_db_error(r, err);
	} else if (PQntuples(res) == 0) {
		gw_reply_problem(r, 404, "campaign_not_found", "no such campaign", NULL);
	} else {
		snprintf(name, sizeof(name), "campaign-%s.csv", id);
		gw_csv_stream(r, name,
			      "message_id,bot_id,user_id,username,first_name,"
			      "status,attempts,telegram_message_id,sent_at,last_error,"
			      "gift_entry_id,balance\r\n",
			      recipients, 1, (const char *const[]){ id }, 1);
	}
}

void gw_campaignreport(struct gw_req *r)
{
	char tenant[24];
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };

	if (gw_campaigns_path(r, tenant))
		gw_query_sql(r, exists_sql, 2, p, on_exists);
}
