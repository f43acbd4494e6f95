/*
 * migrate.c - apply and check schema migrations (see migrate.h).
 *
 * schema_migrations(version, name, checksum, applied_at) records each applied
 * migration. A checksum that differs from the compiled-in file is reported (the file
 * was edited after it ran) but not re-applied: migrations are append-only. After them
 * come the function files of sql/functions/ (sqlfunc.c), under the same lock.
 */
#include "common/migrate.h"
#include "common/botset.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/sqlfunc.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define MIGRATE_LOCK "7412519" /* pg_advisory_lock key: "tgm" */

/* clang-format off */
static const char create_table_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version integer PRIMARY KEY,"
	" name text NOT NULL,"
	" checksum text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now())";
/* clang-format on */

int tgm_schema_wanted(void)
{
	return tgm_migrations_count ? tgm_migrations[tgm_migrations_count - 1].version : 0;
}

int tgm_schema_version(PGconn *c, char *err, size_t errlen)
{
	PGresult *r = tgm_db_query(c, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0,
				   NULL, err, errlen);
	bool exists = r && PQgetvalue(r, 0, 0)[0] == 't';
	int v;

	PQclear(r);
	if (r == NULL)
		return -1;
	if (!exists) /* a table in a query is resolved even where it is not reached */
		return 0;
	r = tgm_db_query(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, err,
			 errlen);
	if (r == NULL)
		return -1;
	v = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

/* checksum_hex - a migration's SQL as the hex SHA-256 recorded in schema_migrations */
static void checksum_hex(const char *sql, char out[65])
{
	unsigned char d[TGM_SHA256_LEN];

	tgm_sha256(sql, strlen(sql), d);
	tgm_hex_encode(d, sizeof(d), out);
}

/* applied_checksum - the stored checksum of version v into out; false when not applied */
static bool applied_checksum(PGconn *c, int v, char out[65])
{
	char ver[16];
	const char *p[1] = { ver };
	PGresult *r;
	bool found;

	snprintf(ver, sizeof(ver), "%d", v);
	r = tgm_db_query(c, "SELECT checksum FROM schema_migrations WHERE version = $1", 1, p, NULL,
			 0);
	found = r && PQntuples(r) == 1;
	if (found)
		snprintf(out, 65, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return found;
}

/* apply_one - one migration and its record in one transaction */
static bool apply_one(PGconn *c, const struct tgm_migration *m, char *err, size_t errlen)
{
	char ver[16], sum[65], msg[512];
	const char *p[3] = { ver, m->name, sum };
	PGresult *r;

	snprintf(ver, sizeof(ver), "%d", m->version);
	checksum_hex(m->sql, sum);
	if (!tgm_db_exec(c, "BEGIN", 0, NULL, err, errlen))
		return false;
	r = PQexec(c, m->sql); /* a script of statements, with no parameters */
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
		msg[strcspn(msg, "\n")] = '\0';
		snprintf(err, errlen, "migration %s failed: %s", m->name, msg);
		PQclear(r);
		tgm_db_exec(c, "ROLLBACK", 0, NULL, NULL, 0);
		return false;
	}
	PQclear(r);
	if (!tgm_db_exec(c,
			 "INSERT INTO schema_migrations (version, name, checksum)"
			 " VALUES ($1, $2, $3)",
			 3, p, err, errlen) ||
	    !tgm_db_exec(c, "COMMIT", 0, NULL, err, errlen)) {
		tgm_db_exec(c, "ROLLBACK", 0, NULL, NULL, 0);
		return false;
	}
	return true;
}

/* defaults_apply - bot_setting_defaults := common/botset.c's defaults, the only copy,
 * so SQL (bd_setting, senderd's and gatewayd's queries) never repeats a default */
static bool defaults_apply(PGconn *c, char *err, size_t errlen)
{
	const char *p[1] = { tgm_botset_defaults_json() };

	return tgm_db_exec(c,
			   "CREATE TABLE IF NOT EXISTS bot_setting_defaults ("
			   " key text PRIMARY KEY, value jsonb NOT NULL)",
			   0, NULL, err, errlen) &&
	       tgm_db_exec(c, "DELETE FROM bot_setting_defaults d WHERE NOT $1::jsonb ? d.key", 1,
			   p, err, errlen) &&
	       tgm_db_exec(c,
			   "INSERT INTO bot_setting_defaults (key, value)"
			   " SELECT key, value FROM jsonb_each($1::jsonb)"
			   " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
			   " WHERE bot_setting_defaults.value <> EXCLUDED.value",
			   1, p, err, errlen);
}

/* migrate_locked - the work of tgm_migrate, with the advisory lock held */
static int migrate_locked(PGconn *c, FILE *out, char *err, size_t errlen)
{
	int applied = 0;

	if (!tgm_db_exec(c, create_table_sql, 0, NULL, err, errlen))
		return -1;
	for (int i = 0; i < tgm_migrations_count; i++) {
		const struct tgm_migration *m = &tgm_migrations[i];
		char stored[65], sum[65];

		if (applied_checksum(c, m->version, stored)) {
			checksum_hex(m->sql, sum);
			if (out && strcmp(stored, sum) != 0)
				fprintf(out, "warning: %s changed after it was applied\n", m->name);
			continue;
		}
		if (!apply_one(c, m, err, errlen))
			return -1;
		if (out)
			fprintf(out, "applied %s\n", m->name);
		applied++;
	}
	if (tgm_schema_version(c, err, errlen) > tgm_schema_wanted()) {
		/* a newer build migrated it: its functions stay, as its tables do */
		if (out)
			fprintf(out, "functions left as they are: the database is newer than this"
				     " build\n");
		return applied;
	}
	if (!defaults_apply(c, err, errlen))
		return -1;
	return tgm_sqlfunc_apply(c, out, err, errlen) < 0 ? -1 : applied;
}

int tgm_migrate(PGconn *c, FILE *out, char *err, size_t errlen)
{
	int applied;

	if (!tgm_db_exec(c, "SET client_min_messages = warning", 0, NULL, err, errlen) ||
	    !tgm_db_exec(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", 0, NULL, err, errlen))
		return -1;
	applied = migrate_locked(c, out, err, errlen);
	tgm_db_exec(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")", 0, NULL, NULL, 0);
	return applied;
}

/* first_missing - the first compiled-in migration the database has not applied (one
 * numbered below the newest applied one, added later), or NULL; false on error */
static bool first_missing(PGconn *c, const struct tgm_migration **missing, char *err, size_t errlen)
{
	struct tgm_buf versions;
	const char *p[1];
	PGresult *r;

	*missing = NULL;
	tgm_buf_init(&versions);
	tgm_buf_add(&versions, "{", 1);
	for (int i = 0; i < tgm_migrations_count; i++)
		tgm_buf_printf(&versions, "%s%d", i ? "," : "", tgm_migrations[i].version);
	tgm_buf_add(&versions, "}", 1);
	p[0] = versions.p;
	r = tgm_db_query(c,
			 "SELECT min(v) FROM unnest($1::int[]) v"
			 " WHERE v NOT IN (SELECT version FROM schema_migrations)",
			 1, p, err, errlen);
	tgm_buf_free(&versions);
	if (r == NULL)
		return false;
	for (int i = 0; i < tgm_migrations_count && !PQgetisnull(r, 0, 0); i++)
		if (tgm_migrations[i].version == (int)strtol(PQgetvalue(r, 0, 0), NULL, 10))
			*missing = &tgm_migrations[i];
	PQclear(r);
	return true;
}

bool tgm_schema_check(PGconn *c, char *err, size_t errlen)
{
	int have = tgm_schema_version(c, err, errlen), want = tgm_schema_wanted();
	const struct tgm_migration *missing;

	if (have < 0)
		return false;
	if (have < want) {
		snprintf(
			err, errlen,
			"database schema is at version %d, this build needs %d: run \"tgmctl migrate\"",
			have, want);
		return false;
	}
	if (!first_missing(c, &missing, err, errlen))
		return false;
	if (missing) {
		snprintf(err, errlen,
			 "database schema lacks migration %d (%s), which this build"
			 " needs: run \"tgmctl migrate\"",
			 missing->version, missing->name);
		return false;
	}
	/* a newer schema is fine: migrations only add, so old builds keep working; its
	 * functions are a newer build's too */
	return have > want || tgm_sqlfunc_check(c, err, errlen);
}
