/*
 * conversations.c - the inbox's list and one conversation: GET /v1/conversations
 * (filters: bot, state, tag, assignee, unread, pinned, since/until on the last
 * activity, and q, a search over the tenant's message texts, whole words through
 * full text and parts of words through pg_trgm, and contact names), newest activity
 * first, paged by an (activity, id) cursor (docs/inbox.md tells how a search stays
 * fast whether its word is common or rare); GET /v1/conversations/{id}. Both read
 * only the caller's tenant: another tenant's conversation is a 404.
 */
#include "gatewayd/inbox.h"
#include "gatewayd/validate.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* the filters of both lists on conversations c; $12: "<microseconds since 1970>.<id>"
 * of the last row of the page before */
#define FILTERS \
	" c.tenant_id = $1 AND ($2::bigint IS NULL OR c.bot_id = $2)" \
	" AND ($3::text IS NULL OR " GW_CONV_STATE " = $3)" \
	" AND ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM conversation_tags ct" \
	"  WHERE ct.conversation_id = c.id AND ct.tag_id = $4))" \
	" AND ($5::bigint IS NULL OR c.assignee_id = $5)" \
	" AND ($6::boolean IS NULL OR c.assignee_id IS NULL)" \
	" AND ($7::boolean IS NULL OR (c.unread > 0) = $7)" \
	" AND ($8::boolean IS NULL OR c.pinned = $8)" \
	" AND ($9::timestamptz IS NULL OR c.last_activity_at >= $9)" \
	" AND ($10::timestamptz IS NULL OR c.last_activity_at < $10)" \
	" AND ($12::text IS NULL OR (c.last_activity_at, c.id) < (timestamptz 'epoch'" \
	"  + split_part($12, '.', 1)::bigint * interval '1 microsecond'," \
	"  split_part($12, '.', 2)::bigint))"
#define ORDER " ORDER BY c.last_activity_at DESC, c.id DESC"
#define CURSOR "(extract(epoch FROM c.last_activity_at) * 1000000)::bigint || '.' || c.id"
#define ROW GW_CONV_JSON ", " CURSOR

/* clang-format off */
static const char list_sql[] =
	"SELECT " ROW " FROM conversations c" GW_CONV_JOINS " WHERE" FILTERS
	" AND $11::text IS NULL" ORDER " LIMIT $13";
/* clang-format on */

/* A match: an item with every word of $11 (full text) or $11 in it (trigrams), or a
 * contact name with $11 in it. First the next conversations of the list are checked one
 * by one (fast when matches are common); when they hold too few matches and there are
 * more, the matching items are found through the indexes instead (fast when matches
 * are rare, which they then are). Both give the same rows. The walk goes in two steps:
 * WALK_FIRST conversations, then, only when those held at least a quarter of a page
 * (so that WALK may fill it), WALK: a rare word pays for a short walk, not the long
 * one (1,000 conversations' items checked one by one took 30-120 ms). They are
 * separate statements: one plan of both would be costed as if both ran, and past
 * jit_above_cost PostgreSQL would compile it (80 ms) for a query of 2 ms. */
#define WALK_FIRST "250"
#define WALK "1000"
#define ITEM_MATCH "(i.words @@ s.tsq OR i.text ILIKE s.pat)"
#define SEARCH_TERMS \
	"WITH s AS (SELECT plainto_tsquery('simple', $11) AS tsq, '%' || replace(replace(" \
	"  replace($11, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%' AS pat),"

/* the rows of a walk of n conversations (JSON, cursor, enough, matches found), or one
 * row (NULL, NULL, enough, matches found) */
/* clang-format off */
#define WALK_SQL(n) \
	SEARCH_TERMS \
	" walk AS (SELECT w.id FROM s, (SELECT c.id, c.last_activity_at, c.contact" \
	"  FROM conversations c WHERE" FILTERS ORDER " LIMIT " n ") w" \
	"  LEFT JOIN LATERAL (SELECT 1 AS hit FROM conversation_items i" \
	"   WHERE i.conversation_id = w.id AND " ITEM_MATCH " LIMIT 1) m ON true" \
	"  WHERE m.hit IS NOT NULL OR w.contact ILIKE s.pat" \
	"  ORDER BY w.last_activity_at DESC, w.id DESC LIMIT $13)," \
	" enough AS (SELECT (SELECT count(*) FROM walk) >= $13 OR (SELECT count(*) FROM" \
	"  (SELECT 1 FROM conversations c WHERE" FILTERS " LIMIT " n ") n) < " n " AS yes," \
	"  (SELECT count(*) FROM walk) AS found)" \
	" SELECT x.j, x.cur, e.yes, e.found FROM enough e LEFT JOIN LATERAL (SELECT " \
	GW_CONV_JSON " AS j, " CURSOR " AS cur, c.last_activity_at AS la, c.id AS cid FROM walk" \
	"  JOIN conversations c ON c.id = walk.id" GW_CONV_JOINS " WHERE e.yes) x ON true" \
	" ORDER BY x.la DESC, x.cid DESC"
/* clang-format on */

static const char walk_first_sql[] = WALK_SQL(WALK_FIRST);
static const char walk_sql[] = WALK_SQL(WALK);

/* the matching items and names first, as an array (the planner then counts on few,
 * as they are: a join costed on its guess of thousands passed jit_above_cost), then
 * their conversations by id, then the page's rows decorated */
/* clang-format off */
static const char hits_sql[] =
	SEARCH_TERMS
	" hits AS (SELECT array(SELECT i.conversation_id FROM s, conversation_items i"
	"  WHERE i.tenant_id = $1 AND " ITEM_MATCH
	"  UNION SELECT k.id FROM s, conversations k WHERE k.tenant_id = $1"
	"  AND k.contact ILIKE s.pat) AS ids),"
	" found AS (SELECT c.id FROM conversations c WHERE c.id = ANY((SELECT ids FROM hits)::bigint[])"
	"  AND" FILTERS ORDER " LIMIT $13)"
	" SELECT " ROW " FROM found JOIN conversations c ON c.id = found.id" GW_CONV_JOINS ORDER;

static const char get_sql[] =
	"SELECT " GW_CONV_JSON " FROM conversations c" GW_CONV_JOINS
	" WHERE c.id = $1 AND c.tenant_id = $2";
/* clang-format on */

enum {
	P_TENANT,
	P_BOT,
	P_STATE,
	P_TAG,
	P_ASSIGNEE,
	P_UNASSIGNED,
	P_UNREAD,
	P_PINNED,
	P_SINCE,
	P_UNTIL,
	P_Q,
	P_AFTER,
	P_LIMIT,
	NP
};

/* list_query - the filters of the query string, kept in r->data between the two
 * statements of a search; limit first, as gw_reply_rows reads it from r->data */
struct list_query {
	int limit;
	const char *p[NP];
	char tenant[24], me[24], fetch[24];
};

/* bad - answers 422 invalid_parameter naming the query parameter; returns false */
static bool bad(struct gw_req *r, const char *name, const char *detail)
{
	gw_reply_problem(r, 422, "invalid_parameter", detail, name);
	return false;
}

/* id_param - an optional positive integer */
static bool id_param(struct gw_req *r, const char *name, const char **out)
{
	int64_t v;

	*out = gw_query(r, name);
	if (*out == NULL || (tgm_parse_int64(*out, &v) && v > 0))
		return true;
	return bad(r, name, "must be a positive integer");
}

/* bool_param - an optional true or false */
static bool bool_param(struct gw_req *r, const char *name, const char **out)
{
	*out = gw_query(r, name);
	if (*out == NULL || !strcmp(*out, "true") || !strcmp(*out, "false"))
		return true;
	return bad(r, name, "must be true or false");
}

/* assignee_param - an account id, "none" (unassigned) or "me" (the session's account) */
static bool assignee_param(struct gw_req *r, struct list_query *q)
{
	const char *a = gw_query(r, "assignee");

	if (a && !strcmp(a, "none")) {
		q->p[P_UNASSIGNED] = "true";
		return true;
	}
	if (a && !strcmp(a, "me")) {
		if (r->account_id == 0)
			return bad(r, "assignee", "assignee=me needs a dashboard session");
		snprintf(q->me, sizeof(q->me), "%lld", (long long)r->account_id);
		q->p[P_ASSIGNEE] = q->me;
		return true;
	}
	return id_param(r, "assignee", &q->p[P_ASSIGNEE]);
}

/* state_ok - one of the four states */
static bool state_ok(const char *s)
{
	return !strcmp(s, "open") || !strcmp(s, "pending") || !strcmp(s, "snoozed") ||
	       !strcmp(s, "closed");
}

/* times_ok - since and until, RFC 3339 */
static bool times_ok(struct gw_req *r, struct list_query *q)
{
	q->p[P_SINCE] = gw_query(r, "since");
	q->p[P_UNTIL] = gw_query(r, "until");
	if (q->p[P_SINCE] && !gw_valid_time(q->p[P_SINCE]))
		return bad(r, "since", "since must be an RFC 3339 time");
	if (q->p[P_UNTIL] && !gw_valid_time(q->p[P_UNTIL]))
		return bad(r, "until", "until must be an RFC 3339 time");
	return true;
}

/* read_query - the list's filters from the query string into q, and the page's cursor
 * and size; false after a 422 */
static bool read_query(struct gw_req *r, struct list_query *q)
{
	q->p[P_STATE] = gw_query(r, "state");
	if (q->p[P_STATE] && !state_ok(q->p[P_STATE]))
		return bad(r, "state", "state must be open, pending, snoozed or closed");
	q->p[P_Q] = gw_query(r, "q");
	if (q->p[P_Q] && (strlen(q->p[P_Q]) < 2 || strlen(q->p[P_Q]) > 200))
		return bad(r, "q", "q must be 2 to 200 bytes");
	if (!id_param(r, "bot_id", &q->p[P_BOT]) || !id_param(r, "tag_id", &q->p[P_TAG]) ||
	    !assignee_param(r, q) || !bool_param(r, "unread", &q->p[P_UNREAD]) ||
	    !bool_param(r, "pinned", &q->p[P_PINNED]) || !times_ok(r, q))
		return false;
	return gw_inbox_after(r, 2, &q->p[P_AFTER], q->fetch);
}

/* on_list - list_sql or hits_sql answered: the page of conversations */
static void on_list(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else
		gw_reply_rows(r, res, PQntuples(res), "conversations");
}

/* on_walk - the walk found enough (its rows, or one NULL row for none), or the rare
 * case: search through the indexes */
static void on_walk(struct gw_req *r, PGresult *res, const char *err)
{
	struct list_query *q = r->data;

	if (err)
		gw_reply_db_error(r, err);
	else if (PQgetvalue(res, 0, 2)[0] == 't')
		gw_reply_rows(r, res, PQgetisnull(res, 0, 0) ? 0 : PQntuples(res), "conversations");
	else
		gw_query_sql(r, hits_sql, NP, q->p, on_list);
}

/* on_walk_first - the short walk found enough, or matches dense enough for the long
 * walk to fill the page (a quarter of it), or the rare case: through the indexes */
static void on_walk_first(struct gw_req *r, PGresult *res, const char *err)
{
	struct list_query *q = r->data;

	if (err || PQgetvalue(res, 0, 2)[0] == 't')
		on_walk(r, res, err);
	else if (strtol(PQgetvalue(res, 0, 3), NULL, 10) * 4 >= strtol(q->fetch, NULL, 10))
		gw_query_sql(r, walk_sql, NP, q->p, on_walk);
	else
		gw_query_sql(r, hits_sql, NP, q->p, on_list);
}

void gw_conversations_list(struct gw_req *r)
{
	struct list_query *q = tgm_xcalloc(1, sizeof(*q));

	if (!read_query(r, q)) {
		free(q);
		return;
	}
	q->limit = *(int *)r->data; /* gw_inbox_after's: the query takes its place */
	r->data_free(r->data);
	r->data = q;
	r->data_free = free;
	gw_tenant_param(r, q->tenant);
	q->p[P_TENANT] = q->tenant;
	q->p[P_LIMIT] = q->fetch;
	if (q->p[P_Q])
		gw_query_sql(r, walk_first_sql, NP, q->p, on_walk_first);
	else
		gw_query_sql(r, list_sql, NP, q->p, on_list);
}

void gw_conversations_get(struct gw_req *r)
{
	gw_conv_query(r, get_sql);
}
