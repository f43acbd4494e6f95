/*
 * heatmap.c - GET /v1/stats/heatmap (read scope), for the dashboard's Analytics page:
 * the tenant's outbound messages (accepted, and of those sent) by weekday and hour of
 * creation in the time zone tz (an IANA name, default UTC), over [from, to) (default:
 * the last 28 days) taken to whole hours, for a bot or all. Read from the hourly
 * counters of sql/009_counters.sql, so a call costs the same whatever the history's
 * size. Only the cells with messages are listed; an unknown tz is a 422 (PostgreSQL
 * knows the zones).
 */
#include "gatewayd/gatewayd.h"
#include "gatewayd/validate.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_RANGE_S (28 * 86400)

/* $1 tenant, $2 from, $3 to, $4 bot_id, $5 tz. An unknown tz fails (SQLSTATE 22023) in
 * the last line, whether there are messages or not: cheaper than pg_timezone_names */
static const char heatmap_sql[] =
	"WITH tb AS (SELECT b.id FROM bots b WHERE b.tenant_id = $1"
	"  AND ($4::bigint IS NULL OR b.id = $4)),"
	" c AS (SELECT extract(isodow FROM x.t AT TIME ZONE $5)::int AS weekday,"
	"  extract(hour FROM x.t AT TIME ZONE $5)::int AS hour, sum(x.n) AS accepted,"
	"  coalesce(sum(x.n) FILTER (WHERE x.status = 'sent'), 0) AS sent"
	"  FROM tb JOIN bot_hours x ON x.bot_id = tb.id"
	"  WHERE x.t >= date_trunc('hour', $2::timestamptz) AND x.t < $3::timestamptz"
	"  GROUP BY 1, 2 HAVING sum(x.n) <> 0)"
	" SELECT json_build_object('from', $2::timestamptz, 'to', $3::timestamptz, 'tz', $5,"
	"  'cells', (SELECT coalesce(json_agg(json_build_object('weekday', weekday,"
	"  'hour', hour, 'accepted', accepted, 'sent', sent) ORDER BY weekday, hour), '[]')"
	"  FROM c)) WHERE (now() AT TIME ZONE $5) IS NOT NULL";

/* valid_tz - the shape of an IANA zone name ("Europe/Berlin", "Etc/GMT+5") */
static bool valid_tz(const char *tz)
{
	size_t n = strlen(tz);

	return n > 0 && n <= 64 && strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					  "0123456789/_+-") == n;
}

static void on_heatmap(struct gw_req *r, PGresult *res, const char *err)
{
	const char *state = err && res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (state && strcmp(state, "22023") == 0) /* the one parameter not checked here */
		gw_reply_problem(r, 422, "invalid_parameter", "tz must be an IANA time zone name",
				 "tz");
	else if (err)
		gw_reply_db_error(r, err);
	else
		gw_reply_raw(r, 200, PQgetvalue(res, 0, 0));
}

/* range_ok - from and to RFC 3339, from not after to; false after a 422 */
static bool range_ok(struct gw_req *r, const char *from, const char *to)
{
	int64_t t1, t2;

	if ((from && !gw_valid_time(from)) || (to && !gw_valid_time(to))) {
		gw_reply_problem(r, 422, "invalid_parameter", "from and to must be RFC 3339 times",
				 from && !gw_valid_time(from) ? "from" : "to");
		return false;
	}
	if (from && to && gw_parse_time(from, &t1) && gw_parse_time(to, &t2) && t1 > t2) {
		gw_reply_problem(r, 422, "invalid_parameter", "from is later than to", "from");
		return false;
	}
	return true;
}

void gw_heatmap(struct gw_req *r)
{
	char tenant[24], from[64], to[64];
	const char *p[5] = { tenant, gw_query(r, "from"), gw_query(r, "to"), gw_query(r, "bot_id"),
			     gw_query(r, "tz") };
	int64_t id;

	if (!range_ok(r, p[1], p[2]))
		return;
	if (p[3] && (!tgm_parse_int64(p[3], &id) || id <= 0)) {
		gw_reply_problem(r, 422, "invalid_parameter", "bot_id must be a positive integer",
				 "bot_id");
		return;
	}
	if (p[4] && !valid_tz(p[4])) {
		gw_reply_problem(r, 422, "invalid_parameter", "tz must be an IANA time zone name",
				 "tz");
		return;
	}
	gw_tenant_param(r, tenant);
	if (p[1] == NULL)
		p[1] = gw_stats_time_at(from, sizeof(from), -DEFAULT_RANGE_S);
	if (p[2] == NULL)
		p[2] = gw_stats_time_at(to, sizeof(to), 1);
	if (p[4] == NULL)
		p[4] = "UTC";
	gw_query_sql(r, heatmap_sql, 5, p, on_heatmap);
}
