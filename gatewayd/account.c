/*
 * account.c - the dashboard's accounts of the caller's tenant, for owners:
 * GET /v1/accounts lists them, POST /v1/accounts makes one, PATCH /v1/accounts/{id}
 * changes its role or disables it, POST /v1/accounts/{id}/password gives it a new
 * password. A password not given is made here and shown once; every password set
 * here must be changed at the next login (must_change_password). Not bot users:
 * those are /v1/bots/{id}/users (users.c).
 */
#include "gatewayd/gatewayd.h"
#include "gatewayd/worker.h"
#include "common/password.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define ACCOUNT_JSON \
	"json_build_object('id', id, 'email', email, 'role', role," \
	" 'must_change_password', must_change_password, 'disabled_at', disabled_at," \
	" 'locked_until', CASE WHEN locked_until > now() THEN locked_until END," \
	" 'created_at', created_at, 'last_login_at', last_login_at)"

static const char list_sql[] =
	"SELECT json_build_object('accounts', coalesce(json_agg(" ACCOUNT_JSON " ORDER BY id),"
	" '[]')) FROM accounts WHERE tenant_id = $1";
static const char create_sql[] =
	"INSERT INTO accounts (tenant_id, email, role, password_hash) VALUES ($1, $2, $3, $4)"
	" RETURNING " ACCOUNT_JSON;
/* clang-format off */
static const char update_sql[] =
	"UPDATE accounts SET role = coalesce($3, role),"
	" disabled_at = CASE WHEN $4::boolean IS NULL THEN disabled_at"
	"   WHEN $4::boolean THEN coalesce(disabled_at, now()) END"
	" WHERE id = $1 AND tenant_id = $2 RETURNING " ACCOUNT_JSON;
/* clang-format on */
static const char reset_sql[] =
	"UPDATE accounts SET password_hash = $3, must_change_password = true,"
	" failed_logins = 0, locked_until = NULL"
	" WHERE id = $1 AND tenant_id = $2 RETURNING " ACCOUNT_JSON;

struct new_password {
	struct gw_req *r;
	char *password;
	char *hash;
	bool generated;
	void (*then)(struct gw_req *r);
};

/* new_password_free - wipe and free a password being hashed */
static void new_password_free(void *p)
{
	struct new_password *np = p;

	explicit_bzero(np->password, strlen(np->password));
	free(np->password);
	free(np->hash);
	free(np);
}

/* valid_role - one of owner, admin, agent, viewer */
static bool valid_role(const char *role)
{
	return role && (!strcmp(role, "owner") || !strcmp(role, "admin") ||
			!strcmp(role, "agent") || !strcmp(role, "viewer"));
}

/* sqlstate_is - the failed statement's SQLSTATE is state */
static bool sqlstate_is(PGresult *res, const char *state)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s && strcmp(s, state) == 0;
}

void gw_accounts_list(struct gw_req *r)
{
	char tenant[24];

	gw_tenant_param(r, tenant);
	gw_query_sql(r, list_sql, 1, (const char *const[]){ tenant }, gw_on_json);
}

/* reply_with_password - the account row, and the password when it was made here */
static void reply_with_password(struct gw_req *r, int code, const char *row)
{
	struct new_password *np = r->data;
	size_t n = strlen(row);
	char *out;

	if (!np->generated) {
		gw_reply_raw(r, code, row);
		return;
	}
	out = tgm_xasprintf("%.*s, \"password\" : \"%s\"}", (int)(n - 1), row, np->password);
	gw_reply_raw(r, code, out);
	explicit_bzero(out, strlen(out));
	free(out);
}

/* hash_work - on the worker thread: hash the new password */
static void hash_work(void *arg)
{
	struct new_password *np = arg;

	np->hash = tgm_password_hash(np->password);
}

/* hash_done - back on the loop: go on with the hash */
static void hash_done(void *arg)
{
	struct new_password *np = arg;

	np->then(np->r);
}

/* with_password - the body's password (or a new one) hashed off the loop, then then(r) */
static void with_password(struct gw_req *r, void (*then)(struct gw_req *r))
{
	yajl_val v = tgm_json_get(r->body, "password");
	const char *given = tgm_json_get_str(r->body, "password"), *why;
	struct new_password *np;
	char made[TGM_PASSWORD_GEN_LEN + 1];

	if (v && !YAJL_IS_NULL(v) && (given == NULL || (why = tgm_password_check(given)))) {
		gw_reply_problem(r, 422, "invalid_field", given ? why : "password must be a string",
				 "password");
		return;
	}
	np = tgm_xcalloc(1, sizeof(*np));
	np->r = r;
	np->then = then;
	np->generated = given == NULL;
	if (given == NULL)
		tgm_password_new(made);
	np->password = tgm_xstrdup(given ? given : made);
	r->data = np;
	r->data_free = new_password_free;
	if (!gw_worker_run(r->gw->worker, hash_work, hash_done, np))
		gw_reply_problem(r, 503, "busy", "too many passwords at once; retry in a moment",
				 NULL);
}

/* on_created - the account's INSERT answered: 201, or why not (409, 422) */
static void on_created(struct gw_req *r, PGresult *res, const char *err)
{
	if (err && sqlstate_is(res, "23505"))
		gw_reply_problem(r, 409, "account_exists", "an account with this email exists",
				 "email");
	else if (err && sqlstate_is(res, "23514"))
		gw_reply_problem(r, 422, "invalid_field", "email must look like name@host",
				 "email");
	else if (err)
		gw_reply_db_error(r, err);
	else
		reply_with_password(r, 201, PQgetvalue(res, 0, 0));
}

/* insert_account - store the new account with its password hash */
static void insert_account(struct gw_req *r)
{
	struct new_password *np = r->data;
	char tenant[24];
	const char *p[4] = { tenant, tgm_json_get_str(r->body, "email"),
			     tgm_json_get_str(r->body, "role"), np->hash };

	gw_tenant_param(r, tenant);
	gw_query_sql(r, create_sql, 4, p, on_created);
}

void gw_accounts_create(struct gw_req *r)
{
	const char *email = tgm_json_get_str(r->body, "email");

	if (email == NULL || strlen(email) < 3 || strlen(email) > 254 || !strchr(email, '@')) {
		gw_reply_problem(r, 422, "invalid_field", "email must look like name@host",
				 "email");
		return;
	}
	if (!valid_role(tgm_json_get_str(r->body, "role"))) {
		gw_reply_problem(r, 422, "invalid_field",
				 "role must be owner, admin, agent or viewer", "role");
		return;
	}
	with_password(r, insert_account);
}

/* on_updated - an account's UPDATE answered; the last owner cannot go */
static void on_updated(struct gw_req *r, PGresult *res, const char *err)
{
	if (err && sqlstate_is(res, "23514"))
		gw_reply_problem(r, 409, "last_owner",
				 "the tenant's last owner stays an enabled"
				 " owner; make another owner first",
				 NULL);
	else if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_reply_problem(r, 404, "account_not_found", "no such account", NULL);
	else if (r->data)
		reply_with_password(r, 200, PQgetvalue(res, 0, 0));
	else
		gw_reply_raw(r, 200, PQgetvalue(res, 0, 0));
}

void gw_accounts_update(struct gw_req *r)
{
	const char *role = tgm_json_get_str(r->body, "role");
	yajl_val disabled = tgm_json_get(r->body, "disabled");
	char tenant[24];
	const char *p[4] = { tgm_http_param(&r->params, "id"), tenant, role, NULL };
	int64_t id;

	if (!gw_path_id(r, "id", &id)) {
		gw_reply_problem(r, 404, "account_not_found", "no such account", NULL);
		return;
	}
	if (tgm_json_get(r->body, "role") && !valid_role(role)) {
		gw_reply_problem(r, 422, "invalid_field",
				 "role must be owner, admin, agent or viewer", "role");
		return;
	}
	if (disabled && !YAJL_IS_TRUE(disabled) && !YAJL_IS_FALSE(disabled)) {
		gw_reply_problem(r, 422, "invalid_field", "disabled must be true or false",
				 "disabled");
		return;
	}
	if (disabled)
		p[3] = YAJL_IS_TRUE(disabled) ? "true" : "false";
	gw_tenant_param(r, tenant);
	gw_query_sql(r, update_sql, 4, p, on_updated);
}

/* store_password - store an account's new password hash */
static void store_password(struct gw_req *r)
{
	struct new_password *np = r->data;
	char tenant[24];
	const char *p[3] = { tgm_http_param(&r->params, "id"), tenant, np->hash };

	gw_tenant_param(r, tenant);
	gw_query_sql(r, reset_sql, 3, p, on_updated);
}

void gw_accounts_reset(struct gw_req *r)
{
	int64_t id;

	if (!gw_path_id(r, "id", &id)) {
		gw_reply_problem(r, 404, "account_not_found", "no such account", NULL);
		return;
	}
	with_password(r, store_password);
}
