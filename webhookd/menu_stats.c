/*
 * menu_stats.c - the admin menu's Dashboard and System (docs/admin-centre.md), one
 * statement each. Dashboard (d): new users today and this week, active users (seen in
 * the last day and week), revenue net of refunds today, this week and this month, the
 * bot's queue (queued and retrying, from the counters) and whether it is healthy (a
 * sender holds its lane, no recent error). System (y): each daemon's heartbeat, the
 * bot's queue and updates waiting, its last error, and the last WAL archive
 * (PostgreSQL's own backup, when archiving is configured). Analytics (a): user growth,
 * messages, revenue of the month, conversations.
 */
#include "webhookd/menu.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

#define REVENUE(since) \
	"(SELECT coalesce(jsonb_object_agg(currency, net), '{}') FROM (SELECT currency," \
	" sum(amount - refunded_amount) AS net FROM payments WHERE bot_id = $1" \
	" AND status = 'paid' AND paid_at > " since " GROUP BY currency) x)::text"

#define QUEUED \
	"(SELECT coalesce(sum(n), 0) FROM bot_status_counts WHERE bot_id = $1" \
	" AND status IN ('queued', 'retrying'))"

/* clang-format off */
static const char dashboard_sql[] =
	"SELECT count(*) FILTER (WHERE first_seen_at > date_trunc('day', now())),"
	" count(*) FILTER (WHERE first_seen_at > now() - interval '7 days'),"
	" count(*) FILTER (WHERE last_seen_at > now() - interval '1 day'),"
	" count(*) FILTER (WHERE last_seen_at > now() - interval '7 days'), count(*),"
	" " REVENUE("date_trunc('day', now())") ", " REVENUE("now() - interval '7 days'") ","
	" " REVENUE("now() - interval '30 days'") ", " QUEUED ","
	" EXISTS (SELECT 1 FROM bot_leases l WHERE l.bot_id = $1 AND l.expires_at > now())"
	"  AND NOT EXISTS (SELECT 1 FROM bot_last_error e WHERE e.bot_id = $1"
	"  AND e.at > now() - interval '1 hour')"
	" FROM bot_users WHERE bot_id = $1";
/* clang-format on */

/* the daemons, one row each, then the bot's facts on the first */
static const char system_sql[] =
	"SELECT d.name || CASE WHEN d.instance <> '' THEN '@' || d.instance ELSE '' END,"
	" d.host, d.stopped_at IS NULL AND d.seen_at > now() - interval '10 seconds',"
	" floor(extract(epoch FROM now() - d.seen_at))::bigint, " QUEUED ","
	" (SELECT count(*) FROM tg_updates WHERE bot_id = $1 AND processed_at IS NULL),"
	" coalesce((SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC: ' || error"
	"  FROM bot_last_error WHERE bot_id = $1), ''),"
	" coalesce((SELECT to_char(last_archived_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"
	"  FROM pg_stat_archiver), '')"
	" FROM (SELECT * FROM daemons UNION ALL SELECT NULL, '', '', 0, '', NULL, NULL, now()"
	"  WHERE NOT EXISTS (SELECT 1 FROM daemons)) d ORDER BY d.name, d.instance, d.host";

/* card - the numbers of view as the menu's text, with Refresh (and the keys added after,
 * before end) */
static void card(struct wh_job *j, const char *text, const char *view)
{
	wh_menu_begin(j, text);
	wh_menu_key(j, wh_menu_t(j, "menu_refresh"), view, 0, 0);
}

/* on_dashboard - dashboard_sql answered: the numbers in the catalog's words */
static void on_dashboard(struct wh_job *j, PGresult *res, const char *err)
{
	char text[1500], day[200], week[200], month[200];
	const char *vars[] = { "new_today",
			       NULL,
			       "new_week",
			       NULL,
			       "active_day",
			       NULL,
			       "active_week",
			       NULL,
			       "users",
			       NULL,
			       "revenue_today",
			       day,
			       "revenue_week",
			       week,
			       "revenue_month",
			       month,
			       "queued",
			       NULL,
			       "health",
			       NULL,
			       NULL };

	if (err || PQntuples(res) != 1) {
		wh_menu_error(j, err ? err : "dashboard: no row");
		return;
	}
	for (int i = 0; i < 5; i++)
		vars[2 * i + 1] = PQgetvalue(res, 0, i);
	wh_menu_money(day, sizeof(day), PQgetvalue(res, 0, 5));
	wh_menu_money(week, sizeof(week), PQgetvalue(res, 0, 6));
	wh_menu_money(month, sizeof(month), PQgetvalue(res, 0, 7));
	vars[17] = PQgetvalue(res, 0, 8);
	vars[19] = wh_menu_t(j,
			     PQgetvalue(res, 0, 9)[0] == 't' ? "menu_healthy" : "menu_unhealthy");
	card(j, wh_menu_fill(j, text, sizeof(text), "menu_dashboard_text", vars), "d");
	wh_menu_end(j, "h", 0);
	wh_menu_done(j, "admin menu: dashboard");
}

/* wh_menu_dashboard - d */
void wh_menu_dashboard(struct wh_job *j)
{
	wh_menu_query(j, dashboard_sql, on_dashboard);
}

/* daemon_line - one daemon's line: "✅ senderd (host): seen 1 s ago" */
static size_t daemon_line(const struct wh_job *j, char *out, size_t n, PGresult *res, int i)
{
	char line[300];
	const char *vars[] = { "name", PQgetvalue(res, i, 0), "host", PQgetvalue(res, i, 1),
			       "ago",  PQgetvalue(res, i, 3), NULL };
	const char *name = PQgetvalue(res, i, 2)[0] == 't' ? "menu_daemon_up" : "menu_daemon_down";

	if (PQgetisnull(res, i, 0))
		return (size_t)snprintf(out, n, "%s\n", wh_menu_t(j, "menu_daemons_none"));
	return (size_t)snprintf(out, n, "%s\n", wh_menu_fill(j, line, sizeof(line), name, vars));
}

/* on_system - system_sql answered: the daemons, then the bot's queue and last error */
static void on_system(struct wh_job *j, PGresult *res, const char *err)
{
	char text[3000], facts[800];
	const char *vars[9] = {
		"queued", NULL, "waiting", NULL, "error", NULL, "backup", NULL, NULL
	};
	size_t at = 0;

	if (err || PQntuples(res) < 1) {
		wh_menu_error(j, err ? err : "system: no row");
		return;
	}
	at = (size_t)snprintf(text, sizeof(text), "%s\n", wh_menu_t(j, "menu_system_title"));
	for (int i = 0; i < PQntuples(res) && at < sizeof(text) - 400; i++)
		at += daemon_line(j, text + at, sizeof(text) - at, res, i);
	vars[1] = PQgetvalue(res, 0, 4);
	vars[3] = PQgetvalue(res, 0, 5);
	vars[5] = *PQgetvalue(res, 0, 6) ? PQgetvalue(res, 0, 6) : wh_menu_t(j, "menu_none");
	vars[7] = *PQgetvalue(res, 0, 7) ? PQgetvalue(res, 0, 7) : wh_menu_t(j, "menu_backup_none");
	wh_menu_fill(j, facts, sizeof(facts), "menu_system_text", vars);
	snprintf(text + at, sizeof(text) - at, "%s", facts);
	card(j, text, "y");
	wh_menu_end(j, "h", 0);
	wh_menu_done(j, "admin menu: system");
}

/* wh_menu_system - y */
void wh_menu_system(struct wh_job *j)
{
	wh_menu_query(j, system_sql, on_system);
}

/* clang-format off */
static const char analytics_sql[] =
	"SELECT count(*) FILTER (WHERE first_seen_at > now() - interval '7 days'),"
	" count(*) FILTER (WHERE first_seen_at > now() - interval '30 days'), count(*),"
	" coalesce(sum(messages), 0), " REVENUE("now() - interval '30 days'") ","
	" (SELECT count(*) FROM conversations WHERE bot_id = $1 AND state IN ('open', 'pending')),"
	" (SELECT count(*) FROM conversations WHERE bot_id = $1 AND state = 'closed'),"
	" (SELECT coalesce(sum(unread), 0) FROM conversations WHERE bot_id = $1)"
	" FROM bot_users WHERE bot_id = $1";
/* clang-format on */

/* on_analytics - analytics_sql answered */
static void on_analytics(struct wh_job *j, PGresult *res, const char *err)
{
	char text[1200], month[200];
	const char *vars[] = { "new_week", NULL, "new_month",     NULL,  "users", NULL,
			       "messages", NULL, "revenue_month", month, "open",  NULL,
			       "closed",   NULL, "unread",        NULL,  NULL };

	if (err || PQntuples(res) != 1) {
		wh_menu_error(j, err ? err : "analytics: no row");
		return;
	}
	for (int i = 0; i < 4; i++)
		vars[2 * i + 1] = PQgetvalue(res, 0, i);
	wh_menu_money(month, sizeof(month), PQgetvalue(res, 0, 4));
	for (int i = 5; i < 8; i++)
		vars[2 * i + 1] = PQgetvalue(res, 0, i);
	card(j, wh_menu_fill(j, text, sizeof(text), "menu_analytics_text", vars), "a");
	wh_menu_key(j, wh_menu_t(j, "menu_csv"), "ax", 0, 0);
	wh_menu_end(j, "h", 0);
	wh_menu_done(j, "admin menu: analytics");
}

/* wh_menu_analytics - a */
void wh_menu_analytics(struct wh_job *j)
{
	wh_menu_query(j, analytics_sql, on_analytics);
}
