/*
 * admins.c - who may act as a bot's admin in Telegram (docs/admins.md): GET
 * /v1/bots/{id}/admins lists them, PUT /v1/bots/{id}/admins/{user_id} {"role": ...}
 * adds one or changes their role, DELETE /v1/bots/{id}/admins/{user_id} removes one.
 * This is how a bot gets its first owner (Telegram's /admins needs one). Each change is
 * audited in its own statement; a bad user id or role is a 422, as in the rest of the API.
 */
#include "gatewayd/gatewayd.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

#define ADMIN_JSON \
	"json_build_object('bot_id', x.bot_id, 'user_id', x.user_id, 'role', x.role," \
	" 'added_by', x.added_by, 'created_at', x.created_at)"

/* clang-format off */
#define BOT_OF_PATH "SELECT id FROM bots WHERE id = $1 AND tenant_id = $2" \
	" AND deleted_at IS NULL"
/* clang-format on */

static const char list_sql[] =
	"SELECT json_build_object('admins', (SELECT coalesce(json_agg(" ADMIN_JSON
	" ORDER BY CASE x.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, x.user_id),"
	" '[]') FROM bot_admins x WHERE x.bot_id = b.id)) FROM (" BOT_OF_PATH ") b";

/* $3 user, $4 role, $5 source, $6 actor: the bot found, the admin, whether it is new;
 * audited when the role changed */
/* clang-format off */
static const char set_sql[] =
	"WITH b AS (" BOT_OF_PATH "),"
	" old AS (SELECT x.role FROM bot_admins x, b WHERE x.bot_id = b.id"
	"  AND x.user_id = $3::bigint),"
	" x AS (INSERT INTO bot_admins AS x (bot_id, user_id, role, added_by)"
	"  SELECT b.id, $3, $4::text, $5::text || ':' || $6::text FROM b"
	"  ON CONFLICT (bot_id, user_id) DO UPDATE SET role = EXCLUDED.role"
	"  RETURNING " ADMIN_JSON " AS j, x.bot_id, x.role),"
	" a AS (SELECT " GW_AUDIT_SQL("$2", "x.bot_id", "$5", "$6", "'admin.set'", "$3::text",
				    "jsonb_build_object('role', x.role, 'previous',"
				    " (SELECT role FROM old))")
	"  FROM x WHERE x.role IS DISTINCT FROM (SELECT role FROM old))"
	" SELECT (SELECT count(*) FROM b), (SELECT j FROM x), NOT EXISTS (SELECT 1 FROM old),"
	"  (SELECT count(*) FROM a)";

/* $3 user, $4 source, $5 actor */
static const char delete_sql[] =
	"WITH b AS (" BOT_OF_PATH "),"
	" x AS (DELETE FROM bot_admins x USING b WHERE x.bot_id = b.id AND x.user_id = $3::bigint"
	"  RETURNING " ADMIN_JSON " AS j, x.bot_id, x.role),"
	" a AS (SELECT " GW_AUDIT_SQL("$2", "x.bot_id", "$4", "$5", "'admin.remove'", "$3::text",
				    "jsonb_build_object('role', x.role)") " FROM x)"
	" SELECT (SELECT count(*) FROM b), (SELECT j FROM x), (SELECT count(*) FROM a)";
/* clang-format on */

void gw_admins_list(struct gw_req *r)
{
	char tenant[24];
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };

	if (gw_bot_path(r, tenant))
		gw_query_sql(r, list_sql, 2, p, gw_on_bot_json);
}

/* user_path - the bot and a Telegram user id in the path (digits, positive); false
 * after a 404 (bot) or a 422 (user id) */
static bool user_path(struct gw_req *r, char tenant[24])
{
	const char *u = tgm_http_param(&r->params, "user_id");
	int64_t id;

	if (!gw_bot_path(r, tenant))
		return false;
	if (u == NULL || u[0] == '\0' || u[strspn(u, "0123456789")] != '\0' ||
	    !tgm_parse_int64(u, &id) || id <= 0) {
		gw_reply_problem(r, 422, "invalid_field",
				 "user_id must be a Telegram user id:"
				 " a positive integer",
				 "user_id");
		return false;
	}
	return true;
}

/* read_role - the body is {"role": "owner" | "admin" | "agent"}; false after a 422 */
static bool read_role(struct gw_req *r, const char **role)
{
	yajl_val v = r->body ? tgm_json_get(r->body, "role") : NULL;

	*role = v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
	if (*role && r->body->u.object.len == 1 &&
	    (strcmp(*role, "owner") == 0 || strcmp(*role, "admin") == 0 ||
	     strcmp(*role, "agent") == 0))
		return true;
	gw_reply_problem(r, 422, "invalid_field",
			 "the body is {\"role\": \"owner\", \"admin\""
			 " or \"agent\"}",
			 "role");
	return false;
}

/* on_set - set_sql answered: 201 for a new admin, 200 for a changed one, or 404 */
static void on_set(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
	else
		gw_reply_raw(r, PQgetvalue(res, 0, 2)[0] == 't' ? 201 : 200, PQgetvalue(res, 0, 1));
}

void gw_admins_set(struct gw_req *r)
{
	char tenant[24], source[16], actor[24];
	const char *role, *p[6] = { tgm_http_param(&r->params, "id"),
				    tenant,
				    tgm_http_param(&r->params, "user_id"),
				    NULL,
				    source,
				    actor };

	if (!user_path(r, tenant) || !read_role(r, &role))
		return;
	p[3] = role;
	gw_audit_actor(r, source, actor);
	gw_query_sql(r, set_sql, 6, p, on_set);
}

/* on_deleted - delete_sql answered: the admin removed, or which 404 */
static void on_deleted(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
	else if (PQgetisnull(res, 0, 1))
		gw_reply_problem(r, 404, "admin_not_found", "this user is not an admin of this bot",
				 NULL);
	else
		gw_reply_raw(r, 200, PQgetvalue(res, 0, 1));
}

void gw_admins_delete(struct gw_req *r)
{
	char tenant[24], source[16], actor[24];
	const char *p[5] = { tgm_http_param(&r->params, "id"), tenant,
			     tgm_http_param(&r->params, "user_id"), source, actor };

	if (!user_path(r, tenant))
		return;
	gw_audit_actor(r, source, actor);
	gw_query_sql(r, delete_sql, 5, p, on_deleted);
}
