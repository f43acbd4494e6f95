/*
 * users.c - the users a bot knows, with their balances: GET /v1/bots/{id}/users paged
 * by user id, GET /v1/bots/{id}/users/{user_id} with the last ledger entries, and
 * POST /v1/bots/{id}/users/{user_id}/credits, an admin's gift or take-away through
 * ledger_apply under a required Idempotency-Key. Also the helpers the billing routes
 * share: the bot of the path and a page of rows with its next_cursor.
 *
 * A bot of another tenant, or deleted, is a 404 like one that does not exist.
 */
#include "gatewayd/gatewayd.h"
#include "common/buf.h"
#include "common/util.h"

#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#define QUERY_MAX 64
#define REASON_MAX 200
#define CREDITS_MAX 1000000000000LL
#define LEDGER_SHOWN "20"

/* the bot of the path, in the tenant and not deleted: $1 bot, $2 tenant */
#define BOT_OF_PATH "b.id = $1 AND b.tenant_id = $2 AND b.deleted_at IS NULL"

#define USER_JSON(more) \
	"json_build_object('user_id', u.user_id, 'first_name', u.first_name," \
	" 'last_name', u.last_name, 'username', u.username, 'language_code', u.language_code," \
	" 'credits', u.credits, 'pass_until', u.pass_until," \
	" 'pass_active', coalesce(u.pass_until > now(), false), 'owed', u.owed," \
	" 'spent', u.spent, 'messages', u.messages, 'banned', u.banned_at IS NOT NULL," \
	" 'banned_at', u.banned_at, 'first_seen_at', u.first_seen_at," \
	" 'last_seen_at', u.last_seen_at" more ")"

#define LEDGER_JSON \
	"json_build_object('id', l.id, 'key', l.key, 'kind', l.kind, 'requested', l.requested," \
	" 'credits', l.credits, 'owed', l.owed, 'pass_until', l.pass_until, 'balance', l.balance," \
	" 'amount', l.amount, 'currency', l.currency, 'reason', l.reason, 'at', l.at)"

/* clang-format off */
static const char list_sql[] =
	"SELECT x.j, x.user_id FROM bots b LEFT JOIN LATERAL ("
	"  SELECT " USER_JSON("") " AS j, u.user_id FROM bot_users u WHERE u.bot_id = b.id"
	"   AND ($3::text IS NULL OR starts_with(lower(u.username), lower(ltrim($3, '@')))"
	"        OR u.user_id = $4::bigint)"
	"   AND ($5::bigint IS NULL OR u.user_id > $5)"
	"   ORDER BY u.user_id LIMIT $6) x ON true"
	" WHERE " BOT_OF_PATH " ORDER BY x.user_id";

static const char get_sql[] =
	"SELECT (SELECT " USER_JSON(", 'ledger', (SELECT coalesce(json_agg(" LEDGER_JSON
	" ORDER BY l.id DESC), '[]') FROM (SELECT * FROM ledger l WHERE l.bot_id = u.bot_id"
	" AND l.user_id = u.user_id ORDER BY l.id DESC LIMIT " LEDGER_SHOWN ") l)")
	" FROM bot_users u WHERE u.bot_id = b.id AND u.user_id = $3)"
	" FROM bots b WHERE " BOT_OF_PATH;

/* credit_sql - ledger_apply only for a user that exists (it raises otherwise); the CTE
 * holds a volatile call, so it is run once, whole */
static const char credit_sql[] =
	"WITH t AS (SELECT b.id AS bot, u.user_id AS usr FROM bots b"
	"  LEFT JOIN bot_users u ON u.bot_id = b.id AND u.user_id = $3 WHERE " BOT_OF_PATH "),"
	" a AS (SELECT l.* FROM t CROSS JOIN LATERAL ledger_apply(t.bot, t.usr, $4, $5,"
	"  $6::bigint, p_reason => $7) l WHERE t.usr IS NOT NULL),"
	" au AS (SELECT " GW_AUDIT_SQL("$2", "t.bot", "$8", "$9", "'user.credit'", "t.usr::text",
				     "jsonb_build_object('credits', $6::bigint, 'reason', $7::text,"
				     " 'entry', a.entry_id)")
	"  FROM t, a WHERE NOT a.replayed AND NOT a.refused)"
	" SELECT t.usr IS NOT NULL, a.entry_id, a.replayed, a.refused, a.balance,"
	"  (SELECT count(*) FROM au) FROM t LEFT JOIN a ON true";
/* clang-format on */

/* entry_sql - the entry, read after ledger_apply's COMMIT (a replay may be another
 * request's), with the user's balance now */
static const char entry_sql[] =
	"SELECT " LEDGER_JSON ", l.user_id, l.requested, coalesce(l.reason, ''), u.credits"
	" FROM ledger l JOIN bot_users u ON u.bot_id = l.bot_id AND u.user_id = $2"
	" WHERE l.id = $1";

/* a credits request between its two statements */
struct credit {
	int64_t user_id;
	int64_t credits;
	char *reason;
	bool replayed;
};

/* credit_free - free a credit request */
static void credit_free(void *data)
{
	struct credit *c = data;

	free(c->reason);
	free(c);
}

bool gw_bot_path(struct gw_req *r, char tenant[24])
{
	int64_t id;

	if (!gw_path_id(r, "id", &id)) {
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
		return false;
	}
	gw_tenant_param(r, tenant);
	return true;
}

void gw_on_bot_json(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
	else
		gw_reply_raw(r, 200, PQgetvalue(res, 0, 0));
}

/* on_list - a page of a bot's users */
static void on_list(struct gw_req *r, PGresult *res, const char *err)
{
	gw_reply_page(r, res, err, "users");
}

void gw_users_list(struct gw_req *r)
{
	char tenant[24], uid[24];
	const char *q = gw_query(r, "q"), *qid = NULL;
	struct gw_page pg;
	int64_t id;

	if (q && (q[0] == '\0' || strlen(q) > QUERY_MAX || !tgm_utf8_valid(q))) {
		gw_reply_problem(r, 422, "invalid_parameter", "q must be 1 to 64 bytes of UTF-8",
				 "q");
		return;
	}
	if (!gw_page_params(r, &pg) || !gw_bot_path(r, tenant))
		return;
	if (q && tgm_parse_int64(q, &id) && id > 0) { /* q may be a user id too */
		snprintf(uid, sizeof(uid), "%lld", (long long)id);
		qid = uid;
	}
	{
		const char *p[6] = {
			tgm_http_param(&r->params, "id"), tenant, q, qid, pg.after, pg.fetch
		};
		gw_query_sql(r, list_sql, 6, p, on_list);
	}
}

/* on_user - one user of a bot, or 404 */
static void on_user(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
	else if (PQgetisnull(res, 0, 0))
		gw_reply_problem(r, 404, "user_not_found", "no such user of this bot", NULL);
	else
		gw_reply_raw(r, 200, PQgetvalue(res, 0, 0));
}

/* user_path - the bot and the {user_id} of the path; false after a 404 */
static bool user_path(struct gw_req *r, char tenant[24], int64_t *user)
{
	if (!gw_bot_path(r, tenant))
		return false;
	if (!gw_path_id(r, "user_id", user)) {
		gw_reply_problem(r, 404, "user_not_found", "no such user of this bot", NULL);
		return false;
	}
	return true;
}

void gw_users_get(struct gw_req *r)
{
	char tenant[24];
	int64_t user;
	const char *p[3] = { tgm_http_param(&r->params, "id"), tenant,
			     tgm_http_param(&r->params, "user_id") };

	if (user_path(r, tenant, &user))
		gw_query_sql(r, get_sql, 3, p, on_user);
}

/* on_entry - the credit's ledger entry read: answer it, or 422 when the key was used for
 * another */
static void on_entry(struct gw_req *r, PGresult *res, const char *err)
{
	struct credit *c = r->data;
	int64_t user = 0, requested = 0;
	struct tgm_buf out;

	if (err || PQntuples(res) != 1) {
		gw_reply_db_error(r, err ? err : "the ledger entry is gone");
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 1), &user);
	tgm_parse_int64(PQgetvalue(res, 0, 2), &requested);
	if (user != c->user_id || requested != c->credits ||
	    strcmp(PQgetvalue(res, 0, 3), c->reason) != 0) {
		gw_reply_problem(r, 422, "idempotency_conflict",
				 "this Idempotency-Key was used"
				 " with another request",
				 "Idempotency-Key");
		return;
	}
	if (c->replayed)
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Idempotent-Replayed",
				  "true");
	tgm_buf_init(&out);
	tgm_buf_printf(&out, "{\"user_id\":%lld,\"entry\":%s,\"balance\":%s}", (long long)user,
		       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 4));
	gw_reply_raw(r, 200, out.p);
	tgm_buf_free(&out);
}

/* sqlstate_is - the failed statement's SQLSTATE is state */
static bool sqlstate_is(PGresult *res, const char *state)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s && strcmp(s, state) == 0;
}

/* on_credited - the credit applied (or a replay of its key): read its entry, or say why not */
static void on_credited(struct gw_req *r, PGresult *res, const char *err)
{
	struct credit *c = r->data;
	char user[24];
	const char *p[2] = { NULL, user };

	if (err && sqlstate_is(res, "23505")) /* the same key, another user, at once */
		gw_reply_problem(r, 422, "idempotency_conflict",
				 "this Idempotency-Key was used"
				 " with another request",
				 "Idempotency-Key");
	else if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
	else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		gw_reply_problem(r, 404, "user_not_found", "no such user of this bot", NULL);
	else if (strcmp(PQgetvalue(res, 0, 3), "t") == 0)
		gw_reply_problem(r, 409, "insufficient_credits",
				 "the user has fewer credits than"
				 " that: nothing was taken",
				 "credits");
	else {
		c->replayed = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
		snprintf(user, sizeof(user), "%lld", (long long)c->user_id);
		p[0] = PQgetvalue(res, 0, 1);
		gw_query_sql(r, entry_sql, 2, p, on_entry);
	}
}

/* utf8_chars - the characters of s, as PostgreSQL's length() counts them */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* read_credit - {"credits": N, "reason": "..."} checked; NULL after a 422 */
static struct credit *read_credit(struct gw_req *r)
{
	const char *reason = tgm_json_get_str(r->body, "reason");
	struct credit *c;
	int64_t n = 0;

	for (size_t i = 0; r->body && i < r->body->u.object.len; i++) {
		const char *k = r->body->u.object.keys[i];
		if (strcmp(k, "credits") && strcmp(k, "reason")) {
			gw_reply_problem(r, 422, "unknown_field",
					 "only credits and reason are"
					 " given",
					 k);
			return NULL;
		}
	}
	if (!tgm_json_get_int(r->body, "credits", &n) || n == 0 || n > CREDITS_MAX ||
	    n < -CREDITS_MAX) {
		gw_reply_problem(r, 422, "invalid_field",
				 "credits must be a non-zero integer from"
				 " -1000000000000 to 1000000000000",
				 "credits");
		return NULL;
	}
	if (reason == NULL || utf8_chars(reason) < 1 || utf8_chars(reason) > REASON_MAX) {
		gw_reply_problem(r, 422, "invalid_field",
				 "reason must be a string of 1 to 200"
				 " characters",
				 "reason");
		return NULL;
	}
	c = tgm_xcalloc(1, sizeof(*c));
	c->credits = n;
	c->reason = tgm_xstrdup(reason);
	return c;
}

void gw_users_credit(struct gw_req *r)
{
	char tenant[24], delta[24], *key, source[16], actor[24];
	struct credit *c;
	int64_t user;

	if (r->idem_key[0] == '\0' || !tgm_utf8_valid(r->idem_key)) {
		gw_reply_problem(r, 400, "invalid_header",
				 "this route needs an Idempotency-Key"
				 " header of UTF-8 text",
				 "Idempotency-Key");
		return;
	}
	c = read_credit(r);
	if (c == NULL)
		return;
	r->data = c;
	r->data_free = credit_free;
	if (!user_path(r, tenant, &user))
		return;
	c->user_id = user;
	snprintf(delta, sizeof(delta), "%lld", (long long)c->credits);
	key = tgm_xasprintf("admin:%s:%s", tenant, r->idem_key);
	{
		const char *p[9] = { tgm_http_param(&r->params, "id"),
				     tenant,
				     tgm_http_param(&r->params, "user_id"),
				     key,
				     c->credits > 0 ? "gift" : "adjust",
				     delta,
				     c->reason,
				     source,
				     actor };

		gw_audit_actor(r, source, actor);
		gw_query_sql(r, credit_sql, 9, p, on_credited);
	}
	free(key);
}
