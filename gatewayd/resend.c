/*
 * resend.c - POST /v1/messages/{id}/resend: a message that failed, expired or was
 * canceled is queued again as a new message (same bot, chat, method, parameters,
 * priority, callback and metadata). The original keeps its status and history.
 */
#include "gatewayd/gatewayd.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char resend_sql[] =
	"WITH o AS (SELECT * FROM messages WHERE id = $1 AND tenant_id = $2),"
	" n AS (INSERT INTO messages (tenant_id, bot_id, chat, method, params, priority,"
	"   callback_url, metadata)"
	"   SELECT tenant_id, bot_id, chat, method, params, priority, callback_url, metadata"
	"   FROM o WHERE status IN ('failed', 'expired', 'canceled') RETURNING id, bot_id)"
	" SELECT o.status, n.id, n.bot_id FROM o LEFT JOIN n ON true";

/* on_resent - the copy queued: ring its bot's doorbell, answer 202 */
static void on_resent(struct gw_req *r, PGresult *res, const char *err)
{
	int64_t bot_id;
	char *out;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) == 0) {
		gw_reply_problem(r, 404, "message_not_found", "no such message", NULL);
		return;
	}
	if (PQgetisnull(res, 0, 1)) {
		out = tgm_xasprintf("the message is %s: only a failed, expired or canceled"
				    " message can be sent again",
				    PQgetvalue(res, 0, 0));
		gw_reply_problem(r, 409, "not_resendable", out, NULL);
		free(out);
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 2), &bot_id);
	gw_ring(r->gw, bot_id, false);
	out = tgm_xasprintf("{\"id\":%s,\"status\":\"queued\",\"bot_id\":%s,\"resend_of\":%s}",
			    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
			    tgm_http_param(&r->params, "id"));
	gw_reply_raw(r, 202, out);
	free(out);
}

void gw_messages_resend(struct gw_req *r)
{
	char tenant[24];
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };
	int64_t id;

	if (!gw_path_id(r, "id", &id)) {
		gw_reply_problem(r, 404, "message_not_found", "no such message", NULL);
		return;
	}
	gw_tenant_param(r, tenant);
	gw_query_sql(r, resend_sql, 2, p, on_resent);
}
