/*
 * key.c - `tgmctl key create|list|revoke`: API keys of tenants.
 *
 * `create` refuses a tenant that does not exist unless --create-tenant is given.
 * A key is "tgmk_" and 40 random letters and digits. It is printed once; the
 * database keeps its SHA-256 and its first 12 characters to recognise it by.
 */
#include "tgmctl/tgmctl.h"
#include "common/apikey.h"
#include "common/webhook_secret.h"
#include "common/db.h"
#include "common/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* valid_scope - whether s is a key scope: admin, send or read */
static bool valid_scope(const char *s)
{
	return !strcmp(s, "admin") || !strcmp(s, "send") || !strcmp(s, "read");
}

struct key_args {
	const char *tenant, *scope, *name;
	bool create_tenant; /* --create-tenant: make the tenant when it does not exist */
};

/* key_create_args - parse `key create`'s options; 0, or 2 after a usage error */
static int key_create_args(int argc, char **argv, struct key_args *a)
{
	*a = (struct key_args){ .name = "" };
	for (int i = 0; i < argc; i += 2) {
		if (!strcmp(argv[i], "--create-tenant")) {
			a->create_tenant = true;
			i--;
			continue;
		}
		const char **slot = !strcmp(argv[i], "--tenant")  ? &a->tenant
				    : !strcmp(argv[i], "--scope") ? &a->scope
				    : !strcmp(argv[i], "--name")  ? &a->name
								  : NULL;
		if (slot == NULL)
			return ctl_usage_error("key create: unknown option \"%s\"", argv[i]);
		if (i + 1 >= argc)
			return ctl_usage_error("key create: %s needs a value", argv[i]);
		*slot = argv[i + 1];
	}
	if (a->tenant == NULL || *a->tenant == '\0')
		return ctl_usage_error("key create: --tenant NAME is required");
	if (a->scope == NULL || !valid_scope(a->scope))
		return ctl_usage_error("key create: --scope must be admin, send or read");
	return 0;
}

/* key_create - `key create`: makes an API key (and the tenant with --create-tenant) and
 * prints it, once; 0, 1 on an error, 2 after a usage error */
static int key_create(struct ctl *c, int argc, char **argv)
{
	struct key_args a;
	char key[TGM_APIKEY_LEN + 1], prefix[TGM_APIKEY_PREFIX_LEN + 1], hash[65], err[512];
	char secret[TGM_WEBHOOK_SECRET_LEN + 1];
	const char *tenant, *scope, *name;
	PGconn *conn;
	PGresult *r;
	int rc;

	if ((rc = key_create_args(argc, argv, &a)) != 0)
		return rc;
	tenant = a.tenant, scope = a.scope, name = a.name;
	if ((conn = ctl_connect(c)) == NULL)
		return 1;
	if (ctl_tenant_check(conn, tenant, a.create_tenant) != 0) {
		PQfinish(conn);
		return 1;
	}
	tgm_apikey_new(key, prefix, hash);
	tgm_webhook_secret_new(secret);
	{
		const char *p[6] = { tenant, name, scope, prefix, hash, secret };
		r = tgm_db_query(
			conn,
			"WITH t AS (INSERT INTO tenants (name, webhook_secret) VALUES ($1, $6)"
			"  ON CONFLICT (name) DO UPDATE SET webhook_secret ="
			"  coalesce(tenants.webhook_secret, EXCLUDED.webhook_secret) RETURNING id)"
			" INSERT INTO api_keys (tenant_id, name, scope, prefix, hash)"
			" SELECT id, $2, $3, $4, decode($5, 'hex') FROM t RETURNING id",
			6, p, err, sizeof(err));
	}
	PQfinish(conn);
	if (r == NULL) {
		fprintf(stderr, "tgmctl: cannot create the key: %s\n", err);
		return 1;
	}
	puts(key);
	fprintf(stderr, "created key id=%s tenant=%s scope=%s: it is shown only now\n",
		PQgetvalue(r, 0, 0), tenant, scope);
	PQclear(r);
	return 0;
}

/* key_list - `key list`: prints every API key (its prefix only) with its tenant, scope
 * and state; 0, or 1 on an error */
static int key_list(struct ctl *c, int argc, char **argv)
{
	char err[512];
	PGconn *conn;
	PGresult *r;

	if (argc > 0)
		return ctl_usage_error("key list takes no arguments");
	if ((conn = ctl_connect(c)) == NULL)
		return 1;
	r = tgm_db_query(conn,
			 "SELECT k.id, t.name, k.scope, k.prefix || '...', k.name,"
			 " to_char(k.created_at, 'YYYY-MM-DD HH24:MI'),"
			 " coalesce(to_char(k.last_used_at, 'YYYY-MM-DD HH24:MI'), '-'),"
			 " CASE WHEN k.revoked_at IS NULL THEN 'active' ELSE 'revoked' END"
			 " FROM api_keys k JOIN tenants t ON t.id = k.tenant_id ORDER BY k.id",
			 0, NULL, err, sizeof(err));
	PQfinish(conn);
	if (r == NULL) {
		fprintf(stderr, "tgmctl: %s\n", err);
		return 1;
	}
	printf("%-6s %-16s %-6s %-20s %-16s %-16s %-16s %s\n", "ID", "TENANT", "SCOPE", "KEY",
	       "NAME", "CREATED", "LAST USED", "STATE");
	for (int i = 0; i < PQntuples(r); i++)
		printf("%-6s %-16s %-6s %-20s %-16s %-16s %-16s %s\n", PQgetvalue(r, i, 0),
		       PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
		       PQgetvalue(r, i, 4), PQgetvalue(r, i, 5), PQgetvalue(r, i, 6),
		       PQgetvalue(r, i, 7));
	PQclear(r);
	return 0;
}

/* key_revoke - `key revoke ID`: revokes the key at once; 0, 1 on an error or an
 * unknown key, 2 after a usage error */
static int key_revoke(struct ctl *c, int argc, char **argv)
{
	char err[512];
	int64_t id;
	PGconn *conn;
	PGresult *r;
	int n;

	if (argc != 1 || !tgm_parse_int64(argv[0], &id) || id <= 0)
		return ctl_usage_error("usage: tgmctl key revoke ID (a key id from key list)");
	if ((conn = ctl_connect(c)) == NULL)
		return 1;
	r = tgm_db_query(conn,
			 "UPDATE api_keys SET revoked_at = now()"
			 " WHERE id = $1::bigint AND revoked_at IS NULL",
			 1, (const char *const[]){ argv[0] }, err, sizeof(err));
	PQfinish(conn);
	if (r == NULL) {
		fprintf(stderr, "tgmctl: %s\n", err);
		return 1;
	}
	n = (int)strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	if (n == 0) {
		fprintf(stderr, "tgmctl: no active key with id %s\n", argv[0]);
		return 1;
	}
	printf("revoked key %s\n", argv[0]);
	return 0;
}

int ctl_key(struct ctl *c, int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "create"))
		return key_create(c, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "list"))
		return key_list(c, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "revoke"))
		return key_revoke(c, argc - 1, argv + 1);
	return ctl_usage_error("usage: tgmctl key create|list|revoke ...");
}
