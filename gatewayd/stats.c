/*
 * stats.c - GET /v1/stats (and the brief's GET /api/stats): per bot and in total for
 * a time range, what was accepted, sent, failed, expired and canceled, the 429s met,
 * the success rate, the queue depth now, the share of each bot's rate used in the
 * last minute, latency from accept to sent (p50/p95/p99), and a series by bucket.
 *
 * PostgreSQL computes it all in one statement from the counters that sql/009_counters.sql
 * keeps as messages move: the range is taken to whole minutes of creation (latency to
 * whole hours, in bins of two significant digits), so a call costs the same whatever the
 * size of the history. The whole hours come from the hour counters [a, b), the minutes
 * only for the partial hours at each end, [lo, a) and [b, hi) (all of [lo, hi) when no
 * whole hour fits, or the bucket is a minute: then a = hi).
 */
#include "gatewayd/gatewayd.h"
#include "gatewayd/validate.h"
#include "common/util.h"

#include <string.h>
#include <time.h>

#define DEFAULT_RANGE_S 86400

/* one JSON object of counters from a row of agg (alias a) */
#define COUNTS_JSON \
	"'accepted', coalesce(a.accepted, 0), 'sent', coalesce(a.sent, 0)," \
	" 'failed', coalesce(a.failed, 0), 'expired', coalesce(a.expired, 0)," \
	" 'canceled', coalesce(a.canceled, 0), 'rate_limited', coalesce(f.n, 0)," \
	" 'success_rate', CASE WHEN coalesce(a.sent, 0) + coalesce(a.failed, 0)" \
	"  + coalesce(a.expired, 0) > 0" \
	"  THEN round(a.sent::numeric / (a.sent + a.failed + a.expired), 4) END," \
	" 'latency_ms', json_build_object('p50', round(a.lat[1]::numeric, 1)," \
	"  'p95', round(a.lat[2]::numeric, 1), 'p99', round(a.lat[3]::numeric, 1))"

/*
 * The range's bounds as expressions of the parameters, written where they are compared
 * (not read from a CTE): the planner then knows them and scans the counters' primary
 * keys (bot_id, t, ...) for the range alone, not every minute ever counted. lo and hi
 * are the range taken to minutes; [A, B) are its whole hours (A = hi for a minute's
 * bucket or when no whole hour fits).
 */
#define LO "date_trunc('minute', $2::timestamptz)"
#define HI "$3::timestamptz"
#define A \
	"(CASE WHEN $4 = 'minute' THEN " HI " ELSE least(" HI ", date_trunc('hour', " LO ")" \
	" + CASE WHEN date_trunc('hour', " LO ") < " LO " THEN interval '1 hour'" \
	" ELSE interval '0' END) END)"
#define B "greatest(" LO ", date_trunc('hour', " HI "))"

/* clang-format off */
static const char stats_sql[] =
	"WITH tb AS (SELECT b.id FROM bots b WHERE b.tenant_id = $1"
	"  AND ($5::bigint IS NULL OR b.id = $5)),"
	" m AS (SELECT x.bot_id, x.t, x.status, x.n FROM tb JOIN bot_hours x ON x.bot_id = tb.id"
	"  WHERE $4 <> 'minute' AND x.t >= " LO " AND x.t <= " HI " - interval '1 hour'"
	"  AND x.n <> 0"
	"  UNION ALL SELECT x.bot_id, x.t, x.status, x.n FROM tb"
	"  JOIN bot_minutes x ON x.bot_id = tb.id WHERE x.t >= " LO " AND x.t < " A
	"  AND x.n <> 0"
	"  UNION ALL SELECT x.bot_id, x.t, x.status, x.n FROM tb JOIN bot_minutes x"
	"  ON x.bot_id = tb.id WHERE x.t >= greatest(" A ", " B ") AND x.t < " HI
	"  AND x.n <> 0),"
	" lb AS (SELECT l.bot_id, l.ms, sum(l.n)::bigint AS n FROM tb"
	"  JOIN bot_latency l ON l.bot_id = tb.id"
	"  WHERE l.t >= date_trunc('hour', $2::timestamptz) AND l.t < $3::timestamptz"
	"  GROUP BY GROUPING SETS ((l.bot_id, l.ms), (l.ms)) HAVING sum(l.n) > 0),"
	" lat AS (SELECT bot_id, array_agg(ms ORDER BY ms) AS bins, array_agg(n ORDER BY ms) AS ns"
	"  FROM lb GROUP BY bot_id),"
	" agg0 AS (SELECT bot_id, sum(n) AS accepted,"
	"  coalesce(sum(n) FILTER (WHERE status = 'sent'), 0) AS sent,"
	"  coalesce(sum(n) FILTER (WHERE status = 'failed'), 0) AS failed,"
	"  coalesce(sum(n) FILTER (WHERE status = 'expired'), 0) AS expired,"
	"  coalesce(sum(n) FILTER (WHERE status = 'canceled'), 0) AS canceled"
	"  FROM m GROUP BY ROLLUP (bot_id)),"
	" agg AS (SELECT a.*, ARRAY[latency_percentile(l.bins, l.ns, 0.5),"
	"   latency_percentile(l.bins, l.ns, 0.95), latency_percentile(l.bins, l.ns, 0.99)] AS lat"
	"  FROM agg0 a LEFT JOIN lat l ON l.bot_id IS NOT DISTINCT FROM a.bot_id),"
	" flood AS (SELECT f.bot_id, sum(f.n) AS n FROM tb JOIN bot_flood_minutes f"
	"  ON f.bot_id = tb.id WHERE f.t >= date_trunc('minute', $2::timestamptz)"
	"  AND f.t < $3::timestamptz GROUP BY ROLLUP (f.bot_id)),"
	" bots_in AS (SELECT b.id,"
	"  coalesce(b.settings->>'per_second', (SELECT value #>> '{}' FROM bot_setting_defaults"
	"   WHERE key = 'per_second')) AS per_second,"
	"  (SELECT coalesce(sum(c.n), 0) FROM bot_status_counts c WHERE c.bot_id = b.id"
	"   AND c.status IN ('queued', 'retrying', 'sending')) AS depth,"
	"  (SELECT coalesce(sum(s.n), 0) FROM bot_done_seconds s WHERE s.bot_id = b.id"
	"   AND s.status = 'sent' AND s.t >= date_trunc('second', now() - interval '1 minute'))"
	"   AS last_minute"
	"  FROM bots b WHERE b.tenant_id = $1 AND b.deleted_at IS NULL"
	"  AND ($5::bigint IS NULL OR b.id = $5)),"
	" series AS (SELECT date_trunc($4, t) AS t, sum(n) AS accepted,"
	"  coalesce(sum(n) FILTER (WHERE status = 'sent'), 0) AS sent,"
	"  coalesce(sum(n) FILTER (WHERE status = 'failed'), 0) AS failed FROM m GROUP BY 1)"
	" SELECT json_build_object('from', $2::timestamptz, 'to', $3::timestamptz, 'bucket', $4,"
	"  'total', (SELECT json_build_object(" COUNTS_JSON ","
	"    'queue_depth', (SELECT coalesce(sum(depth), 0) FROM bots_in))"
	"   FROM (SELECT 1) one LEFT JOIN agg a ON a.bot_id IS NULL AND a.accepted IS NOT NULL"
	"   LEFT JOIN flood f ON f.bot_id IS NULL),"
	"  'bots', (SELECT coalesce(json_agg(json_build_object('bot_id', bi.id, " COUNTS_JSON ","
	"    'queue_depth', bi.depth, 'rate_limit_usage',"
	"    round(bi.last_minute::numeric / 60 / bi.per_second::numeric, 4)) ORDER BY bi.id), '[]')"
	"   FROM bots_in bi LEFT JOIN agg a ON a.bot_id = bi.id LEFT JOIN flood f ON f.bot_id = bi.id),"
	"  'series', (SELECT coalesce(json_agg(json_build_object('t', t, 'accepted', accepted,"
	"    'sent', sent, 'failed', failed) ORDER BY t), '[]') FROM series))";
/* clang-format on */

/* rfc3339_at - now + offset seconds as an RFC 3339 UTC time in buf */
static const char *rfc3339_at(char *buf, size_t size, int offset)
{
	time_t t = time(NULL) + offset;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static const char *const buckets[] = { "minute", "hour", "day", NULL };

/* valid_bucket - b is a bucket the series knows: minute, hour or day */
static bool valid_bucket(const char *b)
{
	for (int i = 0; buckets[i]; i++)
		if (strcmp(b, buckets[i]) == 0)
			return true;
	return false;
}

void gw_stats(struct gw_req *r)
{
	char tenant[24], from[64], to[64];
	const char *p[5] = { tenant, gw_query(r, "from"), gw_query(r, "to"), gw_query(r, "bucket"),
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
	if (p[3] && !valid_bucket(p[3])) {
		gw_reply_problem(r, 422, "invalid_parameter", "bucket must be minute, hour or day",
				 "bucket");
		return;
	}
	if (p[4] && (!tgm_parse_int64(p[4], &id) || id <= 0)) {
		gw_reply_problem(r, 422, "invalid_parameter", "bot_id must be a positive integer",
				 "bot_id");
		return;
	}
	gw_tenant_param(r, tenant);
	if (p[1] == NULL)
		p[1] = rfc3339_at(from, sizeof(from), -DEFAULT_RANGE_S);
	if (p[2] == NULL)
		p[2] = rfc3339_at(to, sizeof(to), 1);
	if (p[3] == NULL)
		p[3] = "hour";
	gw_query_summary(r, "gw_stats", stats_sql, 5, p, gw_on_json);
}
