/*
 * callbacks.c - the tenant's delivery callbacks (senderd sends them, see
 * senderd/callback.c): GET /v1/callbacks lists them newest first, filtered by status
 * and message, paged by id; POST /v1/callbacks/{id}/redeliver sends one again from a
 * fresh schedule (a failed one above all, after the app was fixed). Read scope lists,
 * admin redelivers; another tenant's callback is a 404.
 */
#include "gatewayd/gatewayd.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

#define CALLBACK_JSON \
	"json_build_object('id', c.id, 'message_id', c.message_id, 'url', c.url," \
	" 'status', c.status, 'attempts', c.attempts, 'next_attempt_at'," \
	" CASE WHEN c.status = 'pending' THEN c.next_attempt_at END, 'last_error', c.last_error," \
	" 'created_at', c.created_at, 'delivered_at', c.delivered_at, 'payload', c.payload)"

static const char list_sql[] =
	"SELECT " CALLBACK_JSON ", c.id FROM callbacks c WHERE c.tenant_id = $1"
	" AND ($2::text IS NULL OR c.status = $2) AND ($3::bigint IS NULL OR c.message_id = $3)"
	" AND ($4::bigint IS NULL OR c.id < $4) ORDER BY c.id DESC LIMIT $5";

static const char redeliver_sql[] =
	"UPDATE callbacks c SET status = 'pending', attempts = 0, next_attempt_at = now(),"
	" delivered_at = NULL WHERE c.id = $1 AND c.tenant_id = $2 RETURNING " CALLBACK_JSON;

/* on_list - the page of callbacks, newest first */
static void on_list(struct gw_req *r, PGresult *res, const char *err)
{
	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	gw_reply_rows(r, res, PQntuples(res), "callbacks");
}

/* filters - status and message_id of the query; false after a 422 */
static bool filters(struct gw_req *r, const char **status, const char **message)
{
	int64_t id;

	*status = gw_query(r, "status");
	*message = gw_query(r, "message_id");
	if (*status && strcmp(*status, "pending") && strcmp(*status, "delivered") &&
	    strcmp(*status, "failed")) {
		gw_reply_problem(r, 422, "invalid_parameter",
				 "status must be pending, delivered"
				 " or failed",
				 "status");
		return false;
	}
	if (*message && !(tgm_parse_int64(*message, &id) && id > 0)) {
		gw_reply_problem(r, 422, "invalid_parameter",
				 "message_id must be a positive"
				 " integer",
				 "message_id");
		return false;
	}
	return true;
}

void gw_callbacks_list(struct gw_req *r)
{
	char tenant[24];
	const char *status, *message;
	struct gw_page pg;

	if (!filters(r, &status, &message) || !gw_page_params(r, &pg))
		return;
	gw_tenant_param(r, tenant);
	{
		const char *p[5] = { tenant, status, message, pg.after, pg.fetch };

		gw_query_sql(r, list_sql, 5, p, on_list);
	}
}

/* on_redelivered - the callback set pending again: 202 with it, or 404 when the tenant has
 * no such callback */
static void on_redelivered(struct gw_req *r, PGresult *res, const char *err)
{
	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) == 0) {
		gw_reply_problem(r, 404, "callback_not_found", "no such callback", NULL);
		return;
	}
	gw_reply_raw(r, 202, PQgetvalue(res, 0, 0));
}

void gw_callbacks_redeliver(struct gw_req *r)
{
	char id[24], tenant[24];
	const char *p[2] = { id, tenant };
	int64_t v;

	if (!gw_path_id(r, "id", &v)) {
		gw_reply_problem(r, 404, "callback_not_found", "no such callback", NULL);
		return;
	}
	snprintf(id, sizeof(id), "%lld", (long long)v);
	gw_tenant_param(r, tenant);
	gw_query_sql(r, redeliver_sql, 2, p, on_redelivered);
}
