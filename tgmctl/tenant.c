/*
 * tenant.c - the tenant a command names: `key create` and `user create` refuse one that
 * does not exist unless --create-tenant is given (a typo must not make a new tenant).
 */
#include "tgmctl/tgmctl.h"
#include "common/db.h"

#include <stdio.h>

int ctl_tenant_check(PGconn *conn, const char *tenant, bool create)
{
	char err[512];
	PGresult *r;
	int have;

	if (create)
		return 0;
	r = tgm_db_query(conn, "SELECT 1 FROM tenants WHERE name = $1", 1,
			 (const char *const[]){ tenant }, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "tgmctl: %s\n", err);
		return 1;
	}
	have = PQntuples(r) > 0;
	PQclear(r);
	if (!have)
		fprintf(stderr,
			"tgmctl: no tenant \"%s\": check the name, or add"
			" --create-tenant to make it\n",
			tenant);
	return !have;
}
