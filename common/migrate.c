/*
 * migrate.c - apply and check schema migrations (see migrate.h).
 *
 * schema_migrations(version, name, checksum, applied_at) records each applied
 * migration. A checksum that differs from the compiled-in file is reported (the file
 * was edited after it ran) but not re-applied: migrations are append-only.
 *
 * Functions are not migrations: sql/functions/NAME.sql holds the one current text of
 * a function as a CREATE OR REPLACE. After the migrations, every migrate re-applies
 * them all in one transaction and records each text's checksum in
 * schema_functions(name, checksum, applied_at), so a database whose functions are
 * not this build's can be told (tgm_functions_stale). Bodies are checked when they
 * run, not when they are created (check_function_bodies off, as pg_dump does), so
 * the files may call each other in any order.
 */
#include "common/migrate.h"
#include "common/botset.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define MIGRATE_LOCK "7412519"  /* pg_advisory_lock key: "tgm" */

static const char create_table_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version integer PRIMARY KEY,"
	" name text NOT NULL,"
	" checksum text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now())";

static const char create_functions_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_functions ("
	" name text PRIMARY KEY,"
	" checksum text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now())";

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
	r = tgm_db_query(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL,
			 err, errlen);
	if (r == NULL)
		return -1;
	v = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

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
	r = tgm_db_query(c, "SELECT checksum FROM schema_migrations WHERE version = $1", 1, p,
			 NULL, 0);
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
	if (!tgm_db_exec(c, "INSERT INTO schema_migrations (version, name, checksum)"
			    " VALUES ($1, $2, $3)", 3, p, err, errlen) ||
	    !tgm_db_exec(c, "COMMIT", 0, NULL, err, errlen)) {
		tgm_db_exec(c, "ROLLBACK", 0, NULL, NULL, 0);
		return false;
	}
	return true;
}

/* function_stored - the recorded checksum of function f into out; false when none */
static bool function_stored(PGconn *c, const struct tgm_function *f, char out[65])
{
	const char *p[1] = { f->name };
	PGresult *r = tgm_db_query(c, "SELECT checksum FROM schema_functions WHERE name = $1",
				   1, p, NULL, 0);
	bool found = r && PQntuples(r) == 1;

	if (found)
		snprintf(out, 65, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return found;
}

/* function_apply - one function's text and its checksum, inside the open transaction */
static bool function_apply(PGconn *c, const struct tgm_function *f, FILE *out, char *err,
			   size_t errlen)
{
	char sum[65], stored[65], msg[512];
	const char *p[2] = { f->name, sum };
	bool had = function_stored(c, f, stored);
	PGresult *r;

	checksum_hex(f->sql, sum);
	r = PQexec(c, f->sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
		msg[strcspn(msg, "\n")] = '\0';
		snprintf(err, errlen, "function %s failed: %s", f->name, msg);
		PQclear(r);
		return false;
	}
	PQclear(r);
	if (!tgm_db_exec(c, "INSERT INTO schema_functions (name, checksum) VALUES ($1, $2)"
			    " ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum,"
			    " applied_at = now() WHERE schema_functions.checksum <> EXCLUDED.checksum",
			    2, p, err, errlen))
		return false;
	if (out && had && strcmp(stored, sum) != 0)
		fprintf(out, "replaced function %s\n", f->name);
	return true;
}

/* defaults_apply - bot_setting_defaults := common/botset.c's defaults (when it exists) */
static bool defaults_apply(PGconn *c, char *err, size_t errlen)
{
	const char *p[1] = { tgm_botset_defaults_json() };

	return tgm_db_exec(c, "DELETE FROM bot_setting_defaults d WHERE NOT $1::jsonb ? d.key",
			   1, p, err, errlen) &&
	       tgm_db_exec(c, "INSERT INTO bot_setting_defaults (key, value)"
			   " SELECT key, value FROM jsonb_each($1::jsonb)"
			   " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
			   " WHERE bot_setting_defaults.value <> EXCLUDED.value", 1, p, err, errlen);
}

/* functions_apply - every function's current text, in one transaction */
static bool functions_apply(PGconn *c, FILE *out, char *err, size_t errlen)
{
	bool ok;

	if (!tgm_db_exec(c, create_functions_sql, 0, NULL, err, errlen) ||
	    !tgm_db_exec(c, "BEGIN", 0, NULL, err, errlen))
		return false;
	ok = tgm_db_exec(c, "SET LOCAL check_function_bodies = off", 0, NULL, err, errlen);
	for (int i = 0; ok && i < tgm_functions_count; i++)
		ok = function_apply(c, &tgm_functions[i], out, err, errlen);
	ok = ok && defaults_apply(c, err, errlen);
	if (ok && tgm_db_exec(c, "COMMIT", 0, NULL, err, errlen))
		return true;
	tgm_db_exec(c, "ROLLBACK", 0, NULL, NULL, 0);
	return false;
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
	return functions_apply(c, out, err, errlen) ? applied : -1;
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

bool tgm_schema_check(PGconn *c, char *err, size_t errlen)
{
	int have = tgm_schema_version(c, err, errlen), want = tgm_schema_wanted();

	if (have < 0)
		return false;
	if (have < want) {
		snprintf(err, errlen,
			 "database schema is at version %d, this build needs %d: run \"tgmctl migrate\"",
			 have, want);
		return false;
	}
	/* a newer schema is fine: migrations only add, so old builds keep working */
	return true;
}

/* stale_add - append name to the comma-separated list names (truncated to len) */
static void stale_add(char *names, size_t len, const char *name)
{
	size_t used = strlen(names);

	if (used < len)
		snprintf(names + used, len - used, "%s%s", used ? ", " : "", name);
}

int tgm_functions_stale(PGconn *c, char *names, size_t len, char *err, size_t errlen)
{
	PGresult *r = tgm_db_query(c, "SELECT to_regclass('schema_functions') IS NOT NULL", 0,
				   NULL, err, errlen);
	bool exists = r && PQgetvalue(r, 0, 0)[0] == 't';
	int stale = 0;

	PQclear(r);
	if (r == NULL)
		return -1;
	if (len)
		names[0] = '\0';
	for (int i = 0; i < tgm_functions_count; i++) {
		const struct tgm_function *f = &tgm_functions[i];
		char stored[65], sum[65];

		checksum_hex(f->sql, sum);
		if (exists && function_stored(c, f, stored) && strcmp(stored, sum) == 0)
			continue;
		stale_add(names, len, f->name);
		stale++;
	}
	return stale;
}
