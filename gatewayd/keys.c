/*
 * keys.c - API keys of the caller's tenant: POST /v1/keys makes one (shown once,
 * stored as its SHA-256), GET /v1/keys lists them, DELETE /v1/keys/{id} revokes one
 * at once. All need the admin scope.
 */
#include "gatewayd/gatewayd.h"
#include "common/apikey.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define KEY_JSON \
	"json_build_object('id', id, 'name', name, 'scope', scope, 'prefix', prefix," \
	" 'created_at', created_at, 'last_used_at', last_used_at, 'revoked_at', revoked_at)"

/* clang-format off */
static const char create_sql[] =
	"INSERT INTO api_keys (tenant_id, name, scope, prefix, hash)"
	" VALUES ($1, $2, $3, $4, decode($5, 'hex')) RETURNING " KEY_JSON;
static const char list_sql[] =
	"SELECT json_build_object('keys', coalesce(json_agg(" KEY_JSON " ORDER BY id), '[]'))"
	" FROM api_keys WHERE tenant_id = $1";
static const char revoke_sql[] =
	"UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())"
	" WHERE id = $1 AND tenant_id = $2 RETURNING " KEY_JSON;
/* clang-format on */

/* on_created - the key's INSERT answered: 201 with the key, shown this once */
static void on_created(struct gw_req *r, PGresult *res, const char *err)
{
	const char *key = r->data, *row;
	size_t n;
	char *out;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	row = PQgetvalue(res, 0, 0); /* {"id":...}: add the key itself, shown only now */
	n = strlen(row);
	out = tgm_xasprintf("%.*s, \"key\" : \"%s\"}", (int)(n - 1), row, key);
	gw_reply_raw(r, 201, out);
	free(out);
}

void gw_keys_create(struct gw_req *r)
{
	const char *scope = tgm_json_get_str(r->body, "scope");
	const char *name = tgm_json_get_str(r->body, "name");
	char key[TGM_APIKEY_LEN + 1], prefix[TGM_APIKEY_PREFIX_LEN + 1], hash[65], tenant[24];
	const char *p[5] = { tenant, name ? name : "", scope, prefix, hash };

	if (scope == NULL ||
	    (strcmp(scope, "admin") && strcmp(scope, "send") && strcmp(scope, "read"))) {
		gw_reply_problem(r, 422, "invalid_field", "scope must be admin, send or read",
				 "scope");
		return;
	}
	if (tgm_json_get(r->body, "name") && (name == NULL || strlen(name) > 200)) {
		gw_reply_problem(r, 422, "invalid_field",
				 "name must be a string of at most 200"
				 " characters",
				 "name");
		return;
	}
	tgm_apikey_new(key, prefix, hash);
	gw_tenant_param(r, tenant);
	r->data = tgm_xstrdup(key);
	r->data_free = free;
	gw_query_sql(r, create_sql, 5, p, on_created);
}

void gw_keys_list(struct gw_req *r)
{
	char tenant[24];
	const char *p[1] = { tenant };

	gw_tenant_param(r, tenant);
	gw_query_sql(r, list_sql, 1, p, gw_on_json);
}

/* on_revoked - a key revoked: evicted from the cache before the answer */
static void on_revoked(struct gw_req *r, PGresult *res, const char *err)
{
	int64_t id;

	if (!err && PQntuples(res) == 1 && gw_path_id(r, "id", &id))
		gw_keycache_evict(r->gw->keys, id); /* before the answer, not after the NOTIFY */
	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_reply_problem(r, 404, "key_not_found", "no such key", NULL);
	else
		gw_reply_raw(r, 200, PQgetvalue(res, 0, 0));
}

void gw_keys_revoke(struct gw_req *r)
{
	char tenant[24];
	int64_t id;
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };

	if (!gw_path_id(r, "id", &id)) {
		gw_reply_problem(r, 404, "key_not_found", "no such key", NULL);
		return;
	}
	gw_tenant_param(r, tenant);
	gw_query_sql(r, revoke_sql, 2, p, on_revoked);
}
