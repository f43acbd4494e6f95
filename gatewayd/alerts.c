/*
 * alerts.c - GET /v1/alerts (read scope): what needs someone now, for the dashboard's
 * Overview and for apps, each alert {kind, bot_id, since, detail}. bot_disabled: tgm
 * disabled the bot because Telegram refused its token (senderd set disabled_reason).
 * lane_not_held: an enabled bot has queued or retrying messages and no live row in
 * bot_leases, so no senderd sends for it. callback_backlog: the tenant's callbacks
 * failed in the last 24 hours, or pending and overdue by more than a minute (one
 * alert, no bot). daemon_stale: a daemon not stopped whose heartbeat is older than
 * 10 s (daemons are shared: every tenant sees these). One query finds the facts, from
 * the counters of sql/009_counters.sql and indexes (the oldest waiting message by
 * messages_due), so a long queue costs no more; the texts a person reads (detail) are
 * written here.
 */
#include "gatewayd/gatewayd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* columns: kind, bot_id, since (ISO 8601), then a, b, c, d per kind:
 * bot_disabled: name, username, reason; lane_not_held: name, username, queued, last owner;
 * callback_backlog: failed, overdue; daemon_stale: name, instance, host, seconds since.
 * A lane's oldest waiting message: the first by (priority, id) from each priority on,
 * which messages_due gives in one step each ("= p ORDER BY id" would walk the pkey) */
static const char alerts_sql[] =
	"SELECT kind, bot_id, to_json(since) #>> '{}', a, b, c, d FROM ("
	" SELECT 1 o, 'bot_disabled' kind, b.id bot_id, b.updated_at since, b.name a,"
	"  b.username b, b.disabled_reason c, NULL d FROM bots b WHERE b.tenant_id = $1"
	"  AND NOT b.enabled AND b.deleted_at IS NULL AND b.disabled_reason IS NOT NULL"
	" UNION ALL"
	" SELECT 2, 'lane_not_held', b.id, greatest(l.expires_at, (SELECT min(o.created_at)"
	"   FROM generate_series(0, 2) p, LATERAL (SELECT m.created_at FROM messages m"
	"   WHERE m.bot_id = b.id AND m.status IN ('queued', 'retrying') AND m.priority >= p"
	"   ORDER BY m.priority, m.id LIMIT 1) o)), b.name, b.username, q.n::text, l.owner"
	"  FROM bots b LEFT JOIN bot_leases l ON l.bot_id = b.id"
	"  CROSS JOIN LATERAL (SELECT coalesce(sum(c.n), 0) n FROM bot_status_counts c"
	"   WHERE c.bot_id = b.id AND c.status IN ('queued', 'retrying')) q"
	"  WHERE b.tenant_id = $1 AND b.enabled AND b.deleted_at IS NULL"
	"  AND (l.expires_at IS NULL OR l.expires_at <= now()) AND q.n > 0"
	" UNION ALL"
	" SELECT 3, 'callback_backlog', NULL, min(c.created_at),"
	"  (count(*) FILTER (WHERE c.status = 'failed'))::text,"
	"  (count(*) FILTER (WHERE c.status = 'pending'))::text, NULL, NULL"
	"  FROM callbacks c WHERE c.tenant_id = $1 AND ((c.status = 'failed'"
	"  AND c.next_attempt_at > now() - interval '24 hours') OR (c.status = 'pending'"
	"  AND c.next_attempt_at < now() - interval '1 minute')) HAVING count(*) > 0"
	" UNION ALL"
	" SELECT 4, 'daemon_stale', NULL, d.seen_at, d.name, d.instance, d.host,"
	"  floor(extract(epoch FROM now() - d.seen_at))::bigint::text FROM daemons d"
	"  WHERE d.stopped_at IS NULL AND d.seen_at < now() - interval '10 seconds'"
	") x ORDER BY o, bot_id, a, b, c";

/* bot_name - how a text names a bot: its name, else @username, else "bot <id>" */
static void bot_name(PGresult *res, int i, char *out, size_t n)
{
	const char *name = PQgetvalue(res, i, 3), *user = PQgetvalue(res, i, 4);

	if (*name)
		snprintf(out, n, "%s", name);
	else if (*user)
		snprintf(out, n, "@%s", user);
	else
		snprintf(out, n, "bot %s", PQgetvalue(res, i, 1));
}

/* plural - "1 callback" or "3 callbacks" */
static const char *plural(const char *count, const char *one, const char *many)
{
	return strcmp(count, "1") == 0 ? one : many;
}

/* age - seconds as a person reads them: "42 s", "5 min", "3 h", "2 d" */
static void age(long long s, char *out, size_t n)
{
	if (s < 120)
		snprintf(out, n, "%lld s", s);
	else if (s < 7200)
		snprintf(out, n, "%lld min", s / 60);
	else if (s < 172800)
		snprintf(out, n, "%lld h", s / 3600);
	else
		snprintf(out, n, "%lld d", s / 86400);
}

/* detail_lane - lane_not_held's text: bot's messages waiting, no senderd, whose lease expired */
static void detail_lane(PGresult *res, int i, const char *bot, char *out, size_t n)
{
	const char *queued = PQgetvalue(res, i, 5);
	int len;

	len = snprintf(out, n, "%s: %s %s waiting and no senderd holds its lane", bot, queued,
		       plural(queued, "message", "messages"));
	if (!PQgetisnull(res, i, 6) && len > 0 && (size_t)len < n)
		snprintf(out + len, n - (size_t)len, " (the lease of %s expired)",
			 PQgetvalue(res, i, 6));
}

/* detail_callbacks - callback_backlog's text: how many failed today, how many are overdue */
static void detail_callbacks(PGresult *res, int i, char *out, size_t n)
{
	const char *failed = PQgetvalue(res, i, 3), *overdue = PQgetvalue(res, i, 4);
	char f[96] = "", o[96] = "";

	if (strcmp(failed, "0"))
		snprintf(f, sizeof(f), "%s %s in the last 24 hours", failed,
			 plural(failed, "callback failed", "callbacks failed"));
	if (strcmp(overdue, "0"))
		snprintf(o, sizeof(o), "%s %s overdue by more than a minute", overdue,
			 plural(overdue, "callback is", "callbacks are"));
	snprintf(out, n, "%s%s%s", f, *f && *o ? "; " : "", o);
}

/* detail_daemon - daemon_stale's text: which daemon on which host, silent for how long */
static void detail_daemon(PGresult *res, int i, char *out, size_t n)
{
	const char *instance = PQgetvalue(res, i, 4);
	char ago[32];

	age(strtoll(PQgetvalue(res, i, 6), NULL, 10), ago, sizeof(ago));
	snprintf(out, n, "%s%s%s%s on %s: no heartbeat for %s", PQgetvalue(res, i, 3),
		 *instance ? " (" : "", instance, *instance ? ")" : "", PQgetvalue(res, i, 5), ago);
}

/* detail - the text of row i of res */
static void detail(PGresult *res, int i, char *out, size_t n)
{
	const char *kind = PQgetvalue(res, i, 0);
	char bot[300];

	if (strcmp(kind, "bot_disabled") == 0) {
		bot_name(res, i, bot, sizeof(bot));
		snprintf(out, n, "%s is disabled: %s", bot, PQgetvalue(res, i, 5));
	} else if (strcmp(kind, "lane_not_held") == 0) {
		bot_name(res, i, bot, sizeof(bot));
		detail_lane(res, i, bot, out, n);
	} else if (strcmp(kind, "callback_backlog") == 0) {
		detail_callbacks(res, i, out, n);
	} else {
		detail_daemon(res, i, out, n);
	}
}

/* on_alerts - the alerts' rows: {"alerts": [...]}, each with its detail written here */
static void on_alerts(struct gw_req *r, PGresult *res, const char *err)
{
	yajl_gen g;
	char text[2048];

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	tgm_jgen_key(g, "alerts");
	yajl_gen_array_open(g);
	for (int i = 0; i < PQntuples(res); i++) {
		yajl_gen_map_open(g);
		tgm_jgen_kstr(g, "kind", PQgetvalue(res, i, 0));
		if (PQgetisnull(res, i, 1))
			tgm_jgen_knull(g, "bot_id");
		else
			tgm_jgen_kint(g, "bot_id", strtoll(PQgetvalue(res, i, 1), NULL, 10));
		tgm_jgen_kstr(g, "since", PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2));
		detail(res, i, text, sizeof(text));
		tgm_jgen_kstr(g, "detail", text);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	gw_reply_json(r, 200, g);
}

void gw_alerts(struct gw_req *r)
{
	char tenant[24];

	gw_tenant_param(r, tenant);
	gw_query_sql(r, alerts_sql, 1, (const char *const[]){ tenant }, on_alerts);
}
