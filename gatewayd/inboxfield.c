/*
 * inboxfield.c - the checks the inbox's routes share: body fields (known names, text
 * of so many characters, ids, booleans), the conversation of the path (and a statement
 * about it answered as JSON, gw_conv_query), and the after cursor of its lists. Each
 * check answers the request itself (422 or 404) when it fails and returns false; the
 * caller then stops.
 */
#include "gatewayd/inbox.h"
#include "common/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_DEFAULT 50
#define LIMIT_MAX 200

/* chars - the characters of UTF-8 s, as PostgreSQL's length() counts them */
static int64_t chars(const char *s)
{
	int64_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

bool gw_fields_known(struct gw_req *r, const char *const *names, const char *which)
{
	yajl_val b = r->body;
	size_t k;

	for (size_t i = 0; b && i < b->u.object.len; i++) {
		for (k = 0; names[k] && strcmp(names[k], b->u.object.keys[i]); k++)
			;
		if (names[k] == NULL) {
			gw_reply_problem(r, 422, "unknown_field", which, b->u.object.keys[i]);
			return false;
		}
	}
	return true;
}

bool gw_field_text(struct gw_req *r, const char *name, int min, int max, bool nullable,
		   const char **out)
{
	yajl_val v = tgm_json_get(r->body, name);
	char detail[128];
	int64_t n;

	*out = NULL;
	if (v == NULL || (nullable && YAJL_IS_NULL(v)))
		return true;
	n = YAJL_IS_STRING(v) ? chars(v->u.string) : -1;
	if (n >= min && n <= max) {
		*out = v->u.string;
		return true;
	}
	snprintf(detail, sizeof(detail), "%s must be a string of %d to %d characters%s", name, min,
		 max, nullable ? ", or null" : "");
	gw_reply_problem(r, 422, "invalid_field", detail, name);
	return false;
}

bool gw_field_id(struct gw_req *r, const char *name, char buf[24], const char **out)
{
	yajl_val v = tgm_json_get(r->body, name);
	char detail[96];

	*out = NULL;
	if (v == NULL || YAJL_IS_NULL(v))
		return true;
	if (YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) > 0) {
		snprintf(buf, 24, "%lld", (long long)YAJL_GET_INTEGER(v));
		*out = buf;
		return true;
	}
	snprintf(detail, sizeof(detail), "%s must be a positive integer or null", name);
	gw_reply_problem(r, 422, "invalid_field", detail, name);
	return false;
}

bool gw_field_bool(struct gw_req *r, const char *name, const char **out)
{
	yajl_val v = tgm_json_get(r->body, name);
	char detail[96];

	*out = NULL;
	if (v == NULL)
		return true;
	if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		*out = YAJL_IS_TRUE(v) ? "true" : "false";
		return true;
	}
	snprintf(detail, sizeof(detail), "%s must be true or false", name);
	gw_reply_problem(r, 422, "invalid_field", detail, name);
	return false;
}

void gw_conv_missing(struct gw_req *r)
{
	gw_reply_problem(r, 404, "conversation_not_found", "no such conversation", NULL);
}

/* on_conv_json - gw_conv_query's statement answered: its JSON value, or a 404 */
static void on_conv_json(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_conv_missing(r);
	else
		gw_reply_raw(r, 200, PQgetvalue(res, 0, 0));
}

void gw_conv_query(struct gw_req *r, const char *sql)
{
	char id[24], tenant[24];

	if (gw_conv_path(r, id, tenant))
		gw_query_sql(r, sql, 2, (const char *const[]){ id, tenant }, on_conv_json);
}

bool gw_conv_path(struct gw_req *r, char id[24], char tenant[24])
{
	int64_t v;

	if (!gw_path_id(r, "id", &v)) {
		gw_conv_missing(r);
		return false;
	}
	snprintf(id, 24, "%lld", (long long)v);
	gw_tenant_param(r, tenant);
	return true;
}

/* cursor_ok - n integers joined by '.', each at most 19 digits */
static bool cursor_ok(const char *s, int n)
{
	int parts = 0, digits = 0;

	for (;; s++) {
		if (isdigit((unsigned char)*s) && ++digits <= 19)
			continue;
		if ((*s != '.' && *s != '\0') || digits == 0 || digits > 19)
			return false;
		parts++;
		digits = 0;
		if (*s == '\0')
			return parts == n;
	}
}

bool gw_inbox_after(struct gw_req *r, int n, const char **after, char fetch[24])
{
	const char *lim = gw_query(r, "limit");
	int64_t limit = LIMIT_DEFAULT;

	*after = gw_query(r, "after");
	if (*after && !cursor_ok(*after, n)) {
		gw_reply_problem(r, 422, "invalid_parameter",
				 "after must be a next_cursor of this list", "after");
		return false;
	}
	if (lim && (!tgm_parse_int64(lim, &limit) || limit < 1 || limit > LIMIT_MAX)) {
		gw_reply_problem(r, 422, "invalid_parameter",
				 "limit must be an integer from 1 to 200", "limit");
		return false;
	}
	snprintf(fetch, 24, "%lld", (long long)limit + 1); /* one more: more pages */
	r->data = tgm_xmalloc(sizeof(int));
	*(int *)r->data = (int)limit;
	r->data_free = free;
	return true;
}

bool gw_sqlstate_is(PGresult *res, const char *state)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s && strcmp(s, state) == 0;
}
