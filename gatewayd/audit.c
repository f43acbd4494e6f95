/*
 * audit.c - the audit log's API side (docs/admins.md): who the caller is in an audit row
 * (source "dashboard" with the account's id for a session, "api" with the key's id for
 * an API key; GW_AUDIT_SQL writes the row in the statement of the change), and GET
 * /v1/audit, the tenant's rows newest first, paged by id, filtered by bot_id, action
 * and source. A bot_id of another tenant is a 404.
 */
#include "gatewayd/gatewayd.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

/* $1 tenant, $2 bot (NULL: all), $3 action, $4 source, $5 after (id), $6 limit + 1;
 * no row when the bot is not the tenant's, one NULL row when nothing matches */
static const char list_sql[] =
	"SELECT x.j, x.id FROM (SELECT 1 WHERE $2::bigint IS NULL OR EXISTS (SELECT 1 FROM"
	"  bots WHERE id = $2 AND tenant_id = $1::bigint)) ok"
	" LEFT JOIN LATERAL (SELECT l.id, json_build_object('id', l.id, 'at', l.at,"
	"  'source', l.source, 'actor', l.actor, 'actor_name', CASE l.source"
	"   WHEN 'dashboard' THEN (SELECT a.email FROM accounts a WHERE a.id::text = l.actor"
	"    AND a.tenant_id = l.tenant_id)"
	"   WHEN 'api' THEN (SELECT k.name FROM api_keys k WHERE k.id::text = l.actor"
	"    AND k.tenant_id = l.tenant_id) END,"
	"  'bot_id', l.bot_id, 'action', l.action, 'target', l.target, 'detail', l.detail) AS j"
	"  FROM audit_log l WHERE l.tenant_id = $1 AND ($2 IS NULL OR l.bot_id = $2)"
	"  AND ($3::text IS NULL OR l.action = $3) AND ($4::text IS NULL OR l.source = $4)"
	"  AND ($5::bigint IS NULL OR l.id < $5) ORDER BY l.id DESC LIMIT $6::int) x ON true"
	" ORDER BY x.id DESC";

void gw_audit_actor(const struct gw_req *r, char source[16], char actor[24])
{
	snprintf(source, 16, "%s", r->session_id ? "dashboard" : "api");
	tgm_i64(actor, 24, r->session_id ? r->account_id : r->key_id);
}

/* on_list - a page of audit rows, or 404 for another tenant's bot */
static void on_list(struct gw_req *r, PGresult *res, const char *err)
{
	gw_reply_page(r, res, err, "audit");
}

/* filter_ok - the optional filters: bot_id a positive integer, action 1 to 64 bytes,
 * source telegram, api or dashboard; false after a 422 */
static bool filter_ok(struct gw_req *r, const char *bot, const char *action, const char *source)
{
	int64_t id;

	if (bot && !(tgm_parse_int64(bot, &id) && id > 0)) {
		gw_reply_problem(r, 422, "invalid_parameter", "bot_id must be a bot's id",
				 "bot_id");
		return false;
	}
	if (action && (action[0] == '\0' || strlen(action) > 64)) {
		gw_reply_problem(r, 422, "invalid_parameter", "action must be 1 to 64 bytes",
				 "action");
		return false;
	}
	if (source && strcmp(source, "telegram") && strcmp(source, "api") &&
	    strcmp(source, "dashboard")) {
		gw_reply_problem(r, 422, "invalid_parameter",
				 "source must be telegram, api or dashboard", "source");
		return false;
	}
	return true;
}

void gw_audit_list(struct gw_req *r)
{
	struct gw_page pg;
	char tenant[24];
	const char *bot = gw_query(r, "bot_id"), *action = gw_query(r, "action");
	const char *source = gw_query(r, "source");

	if (!filter_ok(r, bot, action, source) || !gw_page_params(r, &pg))
		return;
	gw_tenant_param(r, tenant);
	{
		const char *p[6] = { tenant, bot, action, source, pg.after, pg.fetch };

		gw_query_sql(r, list_sql, 6, p, on_list);
	}
}
