/*
 * autoreplies.c - a bot's auto-reply rules (docs/autoreplies.md): GET, POST
 * /v1/bots/{id}/autoreplies, PATCH and DELETE /v1/bots/{id}/autoreplies/{rule_id},
 * POST /v1/bots/{id}/autoreplies/order. Bodies are checked here (a regular expression
 * is compiled with the limits webhookd matches under, common/rematch.c); PostgreSQL
 * checks the time zone and the fields each kind has. Every change is announced on
 * channel tgm_autoreplies, where webhookd drops its cached rules of the bot.
 */
#include "gatewayd/gatewayd.h"
#include "common/buf.h"
#include "common/rematch.h"
#include "common/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define RULE_JSON \
	"json_build_object('id', a.id, 'bot_id', a.bot_id, 'position', a.position," \
	" 'kind', a.kind, 'match', a.match, 'pattern', a.pattern, 'time_zone', a.time_zone," \
	" 'days', a.days, 'opens', to_char(a.opens, 'HH24:MI')," \
	" 'closes', to_char(a.closes, 'HH24:MI'), 'text', a.text," \
	" 'window_seconds', a.window_seconds, 'enabled', a.enabled," \
	" 'created_at', a.created_at, 'updated_at', a.updated_at)"

/* clang-format off */
#define BOT_OF_PATH "SELECT id FROM bots WHERE id = $1 AND tenant_id = $2" \
	" AND deleted_at IS NULL"
/* clang-format on */

/* rules a bot may have: webhookd matches every keyword of them against each message */
#define MAX_RULES "100"

#define NOTIFY "pg_notify('tgm_autoreplies', a.bot_id::text)"

/* a time zone PostgreSQL does not know fails here (22023), before anything is written */
#define TZ_OK(p) "(" p "::text IS NULL OR (now() AT TIME ZONE " p "::text) IS NOT NULL)"

static const char list_sql[] =
	"SELECT json_build_object('autoreplies', (SELECT coalesce(json_agg(" RULE_JSON
	" ORDER BY a.position, a.id), '[]') FROM autoreplies a WHERE a.bot_id = b.id))"
	" FROM (" BOT_OF_PATH ") b";

/* $3..$12: kind, match, pattern, time_zone, days, opens, closes, text, window_seconds,
 * enabled (NULL: not given); the bot, its rules before, and the new rule */
/* clang-format off */
static const char insert_sql[] =
	"WITH b AS (" BOT_OF_PATH "),"
	" n AS (SELECT count(*) AS rules FROM autoreplies x, b WHERE x.bot_id = b.id),"
	" a AS (INSERT INTO autoreplies AS a (bot_id, position, kind, match, pattern, time_zone,"
	"  days, opens, closes, text, window_seconds, enabled)"
	"  SELECT b.id, coalesce((SELECT max(x.position) FROM autoreplies x"
	"   WHERE x.bot_id = b.id), 0) + 1, $3::text, $4::text, $5::text, $6::text,"
	"  CASE WHEN $6::text IS NOT NULL THEN coalesce($7::smallint[], '{1,2,3,4,5}') END,"
	"  $8::time, $9::time, $10::text,"
	"  coalesce($11::int, CASE WHEN $3::text = 'keyword' THEN 60 ELSE 3600 END),"
	"  coalesce($12::boolean, true)"
	"  FROM b, n WHERE n.rules < " MAX_RULES " AND " TZ_OK("$6")
	"  RETURNING " RULE_JSON " AS j, " NOTIFY ")"
	" SELECT (SELECT count(*) FROM b), (SELECT rules FROM n), (SELECT j FROM a)";

static const char update_sql[] =
	"WITH b AS (" BOT_OF_PATH "),"
	" a AS (UPDATE autoreplies a SET match = coalesce($4::text, a.match),"
	"  pattern = coalesce($5::text, a.pattern), time_zone = coalesce($6::text, a.time_zone),"
	"  days = coalesce($7::smallint[], a.days), opens = coalesce($8::time, a.opens),"
	"  closes = coalesce($9::time, a.closes), text = coalesce($10::text, a.text),"
	"  window_seconds = coalesce($11::int, a.window_seconds),"
	"  enabled = coalesce($12::boolean, a.enabled), updated_at = now()"
	"  FROM b WHERE a.id = $3 AND a.bot_id = b.id AND " TZ_OK("$6")
	"  RETURNING " RULE_JSON " AS j, " NOTIFY ")"
	" SELECT (SELECT count(*) FROM b), (SELECT j FROM a)";
/* clang-format on */

static const char delete_sql[] =
	"WITH b AS (" BOT_OF_PATH "),"
	" a AS (DELETE FROM autoreplies a USING b WHERE a.id = $3 AND a.bot_id = b.id"
	"  RETURNING " RULE_JSON " AS j, " NOTIFY ")"
	" SELECT (SELECT count(*) FROM b), (SELECT j FROM a)";

/* $3: the bot's every rule id in the new order */
static const char order_sql[] =
	"WITH b AS (" BOT_OF_PATH "),"
	" ok AS (SELECT (SELECT array_agg(x.id ORDER BY x.id) FROM autoreplies x, b"
	"   WHERE x.bot_id = b.id) IS NOT DISTINCT FROM"
	"  (SELECT array_agg(o ORDER BY o) FROM unnest($3::bigint[]) o) AS v),"
	" a AS (UPDATE autoreplies a SET position = o.n, updated_at = now()"
	"  FROM unnest($3::bigint[]) WITH ORDINALITY o(id, n), b, ok"
	"  WHERE ok.v AND a.id = o.id AND a.bot_id = b.id RETURNING a.bot_id, " NOTIFY ")"
	" SELECT (SELECT count(*) FROM b), (SELECT v FROM ok), (SELECT count(*) FROM a)";

enum {
	F_KIND,
	F_MATCH,
	F_PATTERN,
	F_TZ,
	F_DAYS,
	F_OPENS,
	F_CLOSES,
	F_TEXT,
	F_WINDOW,
	F_ENABLED,
	NF
};

/* rule_in - a body's fields as query parameters (NULL: not given) */
struct rule_in {
	const char *v[NF];
	char window[24], days[32];
};

/* a field: its name, how it is read, and what it must be */
struct rfield {
	const char *name;
	bool (*read)(yajl_val v, struct rule_in *in, int f);
	const char *rule;
};

/* one_of - s is one of the NULL-ended words */
static bool one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* read_kind - keyword, hours or greeting */
static bool read_kind(yajl_val v, struct rule_in *in, int f)
{
	static const char *const kinds[] = { "keyword", "hours", "greeting", NULL };

	in->v[f] = YAJL_IS_STRING(v) ? v->u.string : NULL;
	return in->v[f] && one_of(in->v[f], kinds);
}

/* read_match - exact, contains or regex */
static bool read_match(yajl_val v, struct rule_in *in, int f)
{
	static const char *const matches[] = { "exact", "contains", "regex", NULL };

	in->v[f] = YAJL_IS_STRING(v) ? v->u.string : NULL;
	return in->v[f] && one_of(in->v[f], matches);
}

/* utf8_chars - the characters of s, as PostgreSQL's length() counts them */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* read_pattern - 1 to TGM_REMATCH_PATTERN_MAX bytes (a regex is compiled later) */
static bool read_pattern(yajl_val v, struct rule_in *in, int f)
{
	in->v[f] = YAJL_IS_STRING(v) ? v->u.string : NULL;
	return in->v[f] && in->v[f][0] && strlen(in->v[f]) <= TGM_REMATCH_PATTERN_MAX;
}

/* read_tz - an IANA name's characters (PostgreSQL says whether it knows it) */
static bool read_tz(yajl_val v, struct rule_in *in, int f)
{
	const char *s = YAJL_IS_STRING(v) ? v->u.string : NULL;

	in->v[f] = s;
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("/_+-", *s))
			return false;
	return true;
}

/* read_days - an array of distinct integers 1 to 7, as "{1,2}" */
static bool read_days(yajl_val v, struct rule_in *in, int f)
{
	bool seen[8] = { false };
	size_t used = 1;

	if (!YAJL_IS_ARRAY(v) || v->u.array.len == 0 || v->u.array.len > 7)
		return false;
	in->days[0] = '{';
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val d = v->u.array.values[i];
		long long n = YAJL_IS_INTEGER(d) ? YAJL_GET_INTEGER(d) : 0;

		if (n < 1 || n > 7 || seen[n])
			return false;
		seen[n] = true;
		used += (size_t)snprintf(in->days + used, sizeof(in->days) - used, "%s%lld",
					 i ? "," : "", n);
	}
	snprintf(in->days + used, sizeof(in->days) - used, "}");
	in->v[f] = in->days;
	return true;
}

/* read_time - "HH:MM", 00:00 to 23:59 */
static bool read_time(yajl_val v, struct rule_in *in, int f)
{
	const char *s = YAJL_IS_STRING(v) ? v->u.string : NULL;

	in->v[f] = s;
	return s && strlen(s) == 5 && isdigit((unsigned char)s[0]) &&
	       isdigit((unsigned char)s[1]) && s[2] == ':' && isdigit((unsigned char)s[3]) &&
	       isdigit((unsigned char)s[4]) && (s[0] - '0') * 10 + (s[1] - '0') < 24 && s[3] < '6';
}

/* read_text - 1 to 4096 characters, not only white space */
static bool read_text(yajl_val v, struct rule_in *in, int f)
{
	const char *s = YAJL_IS_STRING(v) ? v->u.string : NULL;

	in->v[f] = s;
	if (s == NULL || utf8_chars(s) < 1 || utf8_chars(s) > 4096)
		return false;
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return true;
	return false;
}

/* read_window - 10 seconds to 30 days */
static bool read_window(yajl_val v, struct rule_in *in, int f)
{
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 10 || YAJL_GET_INTEGER(v) > 2592000)
		return false;
	snprintf(in->window, sizeof(in->window), "%lld", (long long)YAJL_GET_INTEGER(v));
	in->v[f] = in->window;
	return true;
}

/* read_enabled - true or false */
static bool read_enabled(yajl_val v, struct rule_in *in, int f)
{
	in->v[f] = YAJL_IS_TRUE(v) ? "true" : "false";
	return YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v);
}

static const struct rfield fields[NF] = {
	[F_KIND] = { "kind", read_kind, "kind must be keyword, hours or greeting" },
	[F_MATCH] = { "match", read_match, "match must be exact, contains or regex" },
	[F_PATTERN] = { "pattern", read_pattern, "pattern must be a string of 1 to 200 bytes" },
	[F_TZ] = { "time_zone", read_tz,
		   "time_zone must be an IANA time zone name such as"
		   " Europe/Berlin" },
	[F_DAYS] = { "days", read_days,
		     "days must be a list of distinct days 1 (Monday) to 7"
		     " (Sunday)" },
	[F_OPENS] = { "opens", read_time, "opens must be a time HH:MM from 00:00 to 23:59" },
	[F_CLOSES] = { "closes", read_time, "closes must be a time HH:MM from 00:00 to 23:59" },
	[F_TEXT] = { "text", read_text,
		     "text must be a string of 1 to 4096 characters, not"
		     " only spaces" },
	[F_WINDOW] = { "window_seconds", read_window,
		       "window_seconds must be an integer from"
		       " 10 to 2592000 (30 days)" },
	[F_ENABLED] = { "enabled", read_enabled, "enabled must be true or false" },
};

/* read_rule - every field of the body read and checked; false after a 422 */
static bool read_rule(struct gw_req *r, struct rule_in *in)
{
	yajl_val body = r->body;
	int f;

	memset(in, 0, sizeof(*in));
	for (size_t i = 0; body && i < body->u.object.len; i++) {
		for (f = 0; f < NF && strcmp(fields[f].name, body->u.object.keys[i]); f++)
			;
		if (f == NF) {
			gw_reply_problem(r, 422, "unknown_field",
					 "a rule has kind, match, pattern,"
					 " time_zone, days, opens, closes, text, window_seconds and"
					 " enabled",
					 body->u.object.keys[i]);
			return false;
		}
		if (!fields[f].read(body->u.object.values[i], in, f)) {
			gw_reply_problem(r, 422, "invalid_field", fields[f].rule, fields[f].name);
			return false;
		}
	}
	return true;
}

/* regex_ok - a regex pattern compiles within the limits; false after a 422 */
static bool regex_ok(struct gw_req *r, const struct rule_in *in)
{
	char err[200], detail[260];
	struct tgm_rematch re;

	if (in->v[F_MATCH] == NULL || strcmp(in->v[F_MATCH], "regex") != 0)
		return true;
	if (!tgm_rematch_compile(&re, in->v[F_PATTERN], err, sizeof(err))) {
		snprintf(detail, sizeof(detail), "pattern: %s", err);
		gw_reply_problem(r, 422, "invalid_field", detail, "pattern");
		return false;
	}
	tgm_rematch_free(&re);
	return true;
}

/* missing - a 422 for a field the rule needs */
static bool missing(struct gw_req *r, int f, const char *why)
{
	gw_reply_problem(r, 422, "invalid_field", why, fields[f].name);
	return false;
}

/* new_rule_ok - a new rule has its kind's fields and no other kind's */
static bool new_rule_ok(struct gw_req *r, const struct rule_in *in)
{
	const char *k = in->v[F_KIND];
	bool keyword = k && strcmp(k, "keyword") == 0, hours = k && strcmp(k, "hours") == 0;

	if (k == NULL)
		return missing(r, F_KIND, "kind is needed: keyword, hours or greeting");
	if (in->v[F_TEXT] == NULL)
		return missing(r, F_TEXT, "text is needed: what the rule answers");
	for (int f = F_MATCH; f <= F_PATTERN; f++)
		if ((in->v[f] != NULL) != keyword)
			return missing(r, f,
				       keyword ? "a keyword rule needs match and pattern"
					       : "match and pattern are for keyword rules");
	for (int f = F_TZ; f <= F_CLOSES; f++)
		if (f != F_DAYS && (in->v[f] != NULL) != hours)
			return missing(
				r, f,
				hours ? "an hours rule needs time_zone, opens and closes"
				      : "time_zone, days, opens and closes are for hours rules");
	if (in->v[F_DAYS] && !hours)
		return missing(r, F_DAYS, "time_zone, days, opens and closes are for hours rules");
	return regex_ok(r, in);
}

void gw_autoreplies_list(struct gw_req *r)
{
	char tenant[24];
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };

	if (gw_bot_path(r, tenant))
		gw_query_sql(r, list_sql, 2, p, gw_on_bot_json);
}

/* sql_refused - a refusal of PostgreSQL's that is the body's fault; false if none */
static bool sql_refused(struct gw_req *r, PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (state && strcmp(state, "22023") == 0) /* time zone "x" not recognized */
		gw_reply_problem(r, 422, "invalid_field", fields[F_TZ].rule, "time_zone");
	else if (state && strcmp(state, "23514") == 0)
		gw_reply_problem(r, 422, "invalid_field",
				 "a keyword rule has match and pattern,"
				 " an hours rule time_zone, days, opens and closes, a greeting"
				 " neither",
				 NULL);
	else
		return false;
	return true;
}

/* on_created - the INSERT answered: 201, 404 without the bot, 422 at the cap */
static void on_created(struct gw_req *r, PGresult *res, const char *err)
{
	if (err && sql_refused(r, res))
		return;
	if (err)
		gw_reply_db_error(r, err);
	else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
	else if (PQgetisnull(res, 0, 2))
		gw_reply_problem(r, 422, "invalid_field",
				 "a bot has at most " MAX_RULES " rules:"
				 " delete one first",
				 "kind");
	else
		gw_reply_raw(r, 201, PQgetvalue(res, 0, 2));
}

void gw_autoreplies_create(struct gw_req *r)
{
	struct rule_in in;
	char tenant[24];
	const char *p[12];

	if (!read_rule(r, &in) || !new_rule_ok(r, &in) || !gw_bot_path(r, tenant))
		return;
	p[0] = tgm_http_param(&r->params, "id");
	p[1] = tenant;
	for (int f = 0; f < NF; f++)
		p[2 + f] = in.v[f];
	gw_query_sql(r, insert_sql, 12, p, on_created);
}

/* rule_path - the bot and the {rule_id} of the path; false after a 404 */
static bool rule_path(struct gw_req *r, char tenant[24])
{
	int64_t id;

	if (!gw_bot_path(r, tenant))
		return false;
	if (!gw_path_id(r, "rule_id", &id)) {
		gw_reply_problem(r, 404, "rule_not_found", "no such rule of this bot", NULL);
		return false;
	}
	return true;
}

/* on_changed - an UPDATE or DELETE answered: the rule, or which 404 */
static void on_changed(struct gw_req *r, PGresult *res, const char *err)
{
	if (err && sql_refused(r, res))
		return;
	if (err)
		gw_reply_db_error(r, err);
	else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
	else if (PQgetisnull(res, 0, 1))
		gw_reply_problem(r, 404, "rule_not_found", "no such rule of this bot", NULL);
	else
		gw_reply_raw(r, 200, PQgetvalue(res, 0, 1));
}

/* patch_ok - a change keeps the kind, and gives match and pattern together */
static bool patch_ok(struct gw_req *r, const struct rule_in *in)
{
	if (in->v[F_KIND])
		return missing(r, F_KIND, "kind cannot change: delete the rule and add another");
	if ((in->v[F_MATCH] == NULL) != (in->v[F_PATTERN] == NULL))
		return missing(r, in->v[F_MATCH] ? F_PATTERN : F_MATCH,
			       "match and pattern change together");
	return regex_ok(r, in);
}

void gw_autoreplies_update(struct gw_req *r)
{
	struct rule_in in;
	char tenant[24];
	const char *p[12];

	if (!read_rule(r, &in) || !patch_ok(r, &in) || !rule_path(r, tenant))
		return;
	p[0] = tgm_http_param(&r->params, "id");
	p[1] = tenant;
	p[2] = tgm_http_param(&r->params, "rule_id");
	for (int f = F_MATCH; f < NF; f++)
		p[2 + f] = in.v[f];
	gw_query_sql(r, update_sql, 12, p, on_changed);
}

void gw_autoreplies_delete(struct gw_req *r)
{
	char tenant[24];
	const char *p[3] = { tgm_http_param(&r->params, "id"), tenant,
			     tgm_http_param(&r->params, "rule_id") };

	if (rule_path(r, tenant))
		gw_query_sql(r, delete_sql, 3, p, on_changed);
}

/* on_ordered - the new order written (or refused): answer the list */
static void on_ordered(struct gw_req *r, PGresult *res, const char *err)
{
	char tenant[24];
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };

	if (err)
		gw_reply_db_error(r, err);
	else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
	else if (PQgetvalue(res, 0, 1)[0] != 't')
		gw_reply_problem(r, 422, "invalid_field",
				 "order must list every rule of the bot"
				 " once",
				 "order");
	else {
		gw_tenant_param(r, tenant);
		gw_query_sql(r, list_sql, 2, p, gw_on_bot_json);
	}
}

/* read_order - {"order": [rule ids]} as "{1,2}"; false after a 422 */
static bool read_order(struct gw_req *r, struct tgm_buf *ids)
{
	yajl_val order = r->body ? tgm_json_get(r->body, "order") : NULL;
	char id[24];

	if (order == NULL || !YAJL_IS_ARRAY(order) || order->u.array.len > 1000 ||
	    r->body->u.object.len != 1) {
		gw_reply_problem(r, 422, "invalid_field",
				 "the body is {\"order\": [every rule"
				 " id, in order]}",
				 "order");
		return false;
	}
	for (size_t i = 0; i < order->u.array.len; i++) {
		yajl_val v = order->u.array.values[i];

		if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) <= 0) {
			gw_reply_problem(r, 422, "invalid_field", "order must list rule ids",
					 "order");
			return false;
		}
		snprintf(id, sizeof(id), "%lld", (long long)YAJL_GET_INTEGER(v));
		tgm_pgarr_add(ids, id);
	}
	tgm_pgarr_end(ids);
	return true;
}

void gw_autoreplies_order(struct gw_req *r)
{
	struct tgm_buf ids;
	char tenant[24];
	const char *p[3] = { tgm_http_param(&r->params, "id"), tenant, NULL };

	tgm_buf_init(&ids);
	if (read_order(r, &ids) && gw_bot_path(r, tenant)) {
		p[2] = ids.p;
		gw_query_sql(r, order_sql, 3, p, on_ordered);
	}
	tgm_buf_free(&ids);
}
