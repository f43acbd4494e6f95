/*
 * alerts.c - GET /v1/alerts, what needs someone now, for the Overview page and for
 * apps: the tenant's bots disabled by Telegram, its bots with due messages that no
 * senderd lane holds, its delivery callbacks overdue by more than a minute, and the
 * daemons whose heartbeat is stale. Facts only, as kinds with their figures: the words
 * are the reader's (the dashboard's overview.js).
 */
#include "gatewayd/gatewayd.h"

/* a lane may lapse briefly between two renewals; a heartbeat comes every few seconds */
static const char alerts_sql[] =
	"WITH tb AS (SELECT b.id, b.name, b.enabled, b.disabled_reason"
	"  FROM bots b WHERE b.tenant_id = $1 AND b.deleted_at IS NULL),"
	" a AS ("
	"  SELECT 1 AS o, tb.id AS k, json_build_object('kind', 'bot_disabled', 'bot_id', tb.id,"
	"   'bot', tb.name, 'reason', tb.disabled_reason) AS j FROM tb"
	"  WHERE NOT tb.enabled AND tb.disabled_reason IS NOT NULL"
	"  UNION ALL SELECT 2, tb.id, json_build_object('kind', 'lane_not_held', 'bot_id', tb.id,"
	"   'bot', tb.name, 'queued', (SELECT coalesce(sum(c.n), 0) FROM bot_status_counts c"
	"    WHERE c.bot_id = tb.id AND c.status IN ('queued', 'retrying')),"
	"   'owner', l.owner, 'expires_at', l.expires_at)"
	"  FROM tb LEFT JOIN bot_leases l ON l.bot_id = tb.id"
	"  WHERE tb.enabled AND (l.expires_at IS NULL OR l.expires_at < now() - interval '10 seconds')"
	"  AND EXISTS (SELECT 1 FROM messages m WHERE m.bot_id = tb.id"
	"   AND m.status IN ('queued', 'retrying') AND m.not_before < now() - interval '10 seconds')"
	"  UNION ALL SELECT 3, 0, json_build_object('kind', 'callback_backlog', 'pending', count(*),"
	"   'oldest_due_at', min(c.next_attempt_at)) FROM callbacks c"
	"  WHERE c.status = 'pending' AND c.tenant_id = $1"
	"  AND c.next_attempt_at < now() - interval '1 minute' HAVING count(*) > 0"
	"  UNION ALL SELECT 4, 0, json_build_object('kind', 'daemon_stale', 'name', d.name,"
	"   'instance', d.instance, 'host', d.host, 'seen_at', d.seen_at) FROM daemons d"
	"  WHERE d.stopped_at IS NULL AND d.seen_at < now() - interval '30 seconds')"
	" SELECT json_build_object('alerts', coalesce(json_agg(j ORDER BY o, k, j::text), '[]')) FROM a";

void gw_alerts(struct gw_req *r)
{
	char tenant[24];

	gw_tenant_param(r, tenant);
	gw_query_sql(r, alerts_sql, 1, (const char *const[]){ tenant }, gw_on_json);
}
