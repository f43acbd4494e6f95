/*
 * activity.c - GET /v1/stats/activity, the Analytics page's second half: for a time
 * range and a bot or all the tenant's, inbound updates and outbound messages by hour of
 * the week (UTC), the bot users active in the last day, week and month before `to`,
 * and per day the money paid (net of refunds, per currency) and the credits spent.
 * Traffic and credits come from hourly counters (sql/030_activity_counters.sql), so
 * their cost does not grow with history, and the range is taken to whole hours; for a
 * range ending now, the active users come from the janitor's minute-old count
 * (sql/032_active_users.sql), else they are counted.
 */
#include "gatewayd/gatewayd.h"
#include "gatewayd/validate.h"
#include "common/util.h"

#include <time.h>

#define DEFAULT_RANGE_S (7 * 86400)

static const char activity_sql[] =
	"WITH tb AS (SELECT b.id FROM bots b WHERE b.tenant_id = $1"
	"  AND ($4::bigint IS NULL OR b.id = $4)),"
	" inb AS (SELECT x.t, sum(x.n) AS n FROM tb JOIN bot_inbound_hours x ON x.bot_id = tb.id"
	"  WHERE x.t >= date_trunc('hour', $2::timestamptz) AND x.t < $3::timestamptz GROUP BY 1),"
	" outb AS (SELECT x.t, sum(x.n) AS n FROM tb JOIN bot_hours x ON x.bot_id = tb.id"
	"  WHERE x.t >= date_trunc('hour', $2::timestamptz) AND x.t < $3::timestamptz"
	"  AND x.n <> 0 GROUP BY 1),"
	" hw AS (SELECT extract(isodow FROM t AT TIME ZONE 'UTC')::int AS dow,"
	"  extract(hour FROM t AT TIME ZONE 'UTC')::int AS hour,"
	"  sum(i) AS inbound, sum(o) AS outbound FROM (SELECT t, n AS i, 0 AS o FROM inb"
	"  UNION ALL SELECT t, 0, n FROM outb) a GROUP BY 1, 2),"
	" fresh AS (SELECT $3::timestamptz > now() - interval '2 minutes' AND NOT EXISTS"
	"  (SELECT 1 FROM tb LEFT JOIN bot_active_users a ON a.bot_id = tb.id"
	"   WHERE a.at IS NULL OR a.at < now() - interval '2 minutes') AS ok),"
	" au AS (SELECT sum(a.day) AS day, sum(a.week) AS week, sum(a.month) AS month"
	"  FROM tb JOIN bot_active_users a ON a.bot_id = tb.id HAVING (SELECT ok FROM fresh)"
	"  UNION ALL"
	"  SELECT count(*) FILTER (WHERE u.last_seen_at >= $3::timestamptz - interval '1 day'),"
	"  count(*) FILTER (WHERE u.last_seen_at >= $3::timestamptz - interval '7 days'),"
	"  count(*) FROM tb JOIN bot_users u ON u.bot_id = tb.id"
	"  WHERE u.last_seen_at >= $3::timestamptz - interval '30 days'"
	"  AND u.last_seen_at < $3::timestamptz HAVING NOT (SELECT ok FROM fresh)),"
	" rev AS (SELECT date_trunc('day', p.paid_at AT TIME ZONE 'UTC') AS day, p.currency,"
	"  sum(p.amount) AS paid, sum(p.refunded_amount) AS refunded, count(*) AS payments"
	"  FROM tb JOIN payments p ON p.bot_id = tb.id WHERE p.status = 'paid'"
	"  AND p.paid_at >= $2::timestamptz AND p.paid_at < $3::timestamptz GROUP BY 1, 2),"
	" spent AS (SELECT date_trunc('day', x.t AT TIME ZONE 'UTC') AS day,"
	"  sum(x.credits) AS credits FROM tb JOIN bot_debit_hours x ON x.bot_id = tb.id"
	"  WHERE x.t >= date_trunc('hour', $2::timestamptz) AND x.t < $3::timestamptz"
	"  GROUP BY 1 HAVING sum(x.credits) <> 0)"
	" SELECT json_build_object('from', $2::timestamptz, 'to', $3::timestamptz,"
	"  'heatmap', (SELECT coalesce(json_agg(json_build_object('dow', dow, 'hour', hour,"
	"   'inbound', inbound, 'outbound', outbound) ORDER BY dow, hour), '[]') FROM hw),"
	"  'active_users', (SELECT json_build_object('day', day, 'week', week, 'month', month)"
	"   FROM au),"
	"  'revenue', (SELECT coalesce(json_agg(json_build_object('day', to_char(day, 'YYYY-MM-DD'),"
	"   'currency', currency, 'payments', payments, 'amount', paid, 'refunded', refunded,"
	"   'net', paid - refunded) ORDER BY day, currency), '[]') FROM rev),"
	"  'credits_spent', (SELECT coalesce(json_agg(json_build_object("
	"   'day', to_char(day, 'YYYY-MM-DD'), 'credits', credits) ORDER BY day), '[]')"
	"   FROM spent))";

/* rfc3339_at - now + offset seconds as an RFC 3339 UTC time in buf */
static const char *rfc3339_at(char *buf, size_t size, int offset)
{
	time_t t = time(NULL) + offset;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

void gw_activity(struct gw_req *r)
{
	char tenant[24], from[64], to[64];
	const char *p[4] = { tenant, gw_query(r, "from"), gw_query(r, "to"),
			     gw_query(r, "bot_id") };
	int64_t id, t1, t2;

	if ((p[1] && !gw_valid_time(p[1])) || (p[2] && !gw_valid_time(p[2]))) {
		gw_reply_problem(r, 422, "invalid_parameter", "from and to must be RFC 3339 times",
				 p[1] && !gw_valid_time(p[1]) ? "from" : "to");
		return;
	}
	if (p[1] && p[2] && gw_parse_time(p[1], &t1) && gw_parse_time(p[2], &t2) && t1 > t2) {
		gw_reply_problem(r, 422, "invalid_parameter", "from is later than to", "from");
		return;
	}
	if (p[3] && (!tgm_parse_int64(p[3], &id) || id <= 0)) {
		gw_reply_problem(r, 422, "invalid_parameter", "bot_id must be a positive integer",
				 "bot_id");
		return;
	}
	gw_tenant_param(r, tenant);
	if (p[1] == NULL)
		p[1] = rfc3339_at(from, sizeof(from), -DEFAULT_RANGE_S);
	if (p[2] == NULL)
		p[2] = rfc3339_at(to, sizeof(to), 1);
	gw_query_summary(r, "gw_activity", activity_sql, 4, p, gw_on_json);
}
