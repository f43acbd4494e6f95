/*
 * sqlfunc.c - apply and check the function files of sql/functions/ (see sqlfunc.h).
 *
 * schema_functions(name, checksum, applied_at) records the SHA-256 of the text last
 * applied for each function. Every migrate runs every file again, so a function altered
 * by hand is put back too; a row changes only when the file did.
 */
#include "common/sqlfunc.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* the row is written (and returned) only when the checksum is new or differs */
static const char record_sql[] =
	"INSERT INTO schema_functions AS f (name, checksum) VALUES ($1, $2)"
	" ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()"
	" WHERE f.checksum <> EXCLUDED.checksum RETURNING 1";

/* checksum_hex - a function's SQL as hex SHA-256, to tell whether it changed */
static void checksum_hex(const char *sql, char out[65])
{
	unsigned char d[TGM_SHA256_LEN];

	tgm_sha256(sql, strlen(sql), d);
	tgm_hex_encode(d, sizeof(d), out);
}

/* run_file - one function file, a script with no parameters */
static bool run_file(PGconn *c, const struct tgm_function *f, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, f->sql);
	char msg[512];
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok) {
		snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
		msg[strcspn(msg, "\n")] = '\0';
		snprintf(err, errlen, "function file %s.sql failed: %s", f->name, msg);
	}
	PQclear(r);
	return ok;
}

/* record - store f's checksum; 1 when it changed, 0 when not, -1 on error */
static int record(PGconn *c, const struct tgm_function *f, char *err, size_t errlen)
{
	char sum[65];
	const char *p[2] = { f->name, sum };
	PGresult *r;
	int changed;

	checksum_hex(f->sql, sum);
	r = tgm_db_query(c, record_sql, 2, p, err, errlen);
	if (r == NULL)
		return -1;
	changed = PQntuples(r) > 0;
	PQclear(r);
	return changed;
}

/* apply_all - the body of the transaction; the number changed or -1 */
static int apply_all(PGconn *c, FILE *out, char *err, size_t errlen)
{
	int changed = 0;

	/* bodies are checked when called, so a file may name a function applied after it */
	if (!tgm_db_exec(c, "SET LOCAL check_function_bodies = off", 0, NULL, err, errlen))
		return -1;
	for (int i = 0; i < tgm_functions_count; i++) {
		const struct tgm_function *f = &tgm_functions[i];
		int n;

		if (!run_file(c, f, err, errlen) || (n = record(c, f, err, errlen)) < 0)
			return -1;
		if (n && out)
			fprintf(out, "updated function %s\n", f->name);
		changed += n;
	}
	return changed;
}

int tgm_sqlfunc_apply(PGconn *c, FILE *out, char *err, size_t errlen)
{
	int changed;

	if (!tgm_db_exec(c, "BEGIN", 0, NULL, err, errlen))
		return -1;
	changed = apply_all(c, out, err, errlen);
	if (changed < 0 || !tgm_db_exec(c, "COMMIT", 0, NULL, err, errlen)) {
		tgm_db_exec(c, "ROLLBACK", 0, NULL, NULL, 0);
		return -1;
	}
	return changed;
}

/* build_arrays - the build's names and checksums as two array literals */
static void build_arrays(struct tgm_buf *names, struct tgm_buf *sums)
{
	char sum[65];

	tgm_buf_adds(names, "{");
	tgm_buf_adds(sums, "{");
	for (int i = 0; i < tgm_functions_count; i++) {
		checksum_hex(tgm_functions[i].sql, sum);
		tgm_buf_printf(names, "%s\"%s\"", i ? "," : "", tgm_functions[i].name);
		tgm_buf_printf(sums, "%s%s", i ? "," : "", sum);
	}
	tgm_buf_adds(names, "}");
	tgm_buf_adds(sums, "}");
}

bool tgm_sqlfunc_check(PGconn *c, char *err, size_t errlen)
{
	struct tgm_buf names, sums;
	const char *p[2];
	PGresult *r;
	long n;

	tgm_buf_init(&names);
	tgm_buf_init(&sums);
	build_arrays(&names, &sums);
	p[0] = names.p;
	p[1] = sums.p;
	r = tgm_db_query(c,
			 "SELECT count(*), min(b.name) FROM unnest($1::text[], $2::text[])"
			 " AS b(name, checksum) LEFT JOIN schema_functions f USING (name)"
			 " WHERE f.checksum IS DISTINCT FROM b.checksum",
			 2, p, err, errlen);
	tgm_buf_free(&names);
	tgm_buf_free(&sums);
	if (r == NULL)
		return false;
	n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	if (n > 0) {
		char more[32] = "";

		if (n > 1)
			snprintf(more, sizeof(more), " and %ld more", n - 1);
		snprintf(err, errlen,
			 "database functions differ from this build (%s%s):"
			 " run \"tgmctl migrate\"",
			 PQgetvalue(r, 0, 1), more);
	}
	PQclear(r);
	return n == 0;
}
