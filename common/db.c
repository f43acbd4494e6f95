/*
 * db.c - blocking libpq wrappers (see db.h): connect with a timeout, run
 * parameterized statements, turn libpq's multi-line errors into one line.
 */
#include "common/db.h"

#include <stdio.h>
#include <string.h>

/* first_line - copy the first line of msg, without a "FATAL:  " or "ERROR:  " label */
static void first_line(const char *msg, char *buf, size_t size)
{
	size_t n;

	if (msg == NULL)
		msg = "unknown error";
	if (strncmp(msg, "FATAL:  ", 8) == 0 || strncmp(msg, "ERROR:  ", 8) == 0)
		msg += 8;
	n = strcspn(msg, "\n");
	snprintf(buf, size, "%.*s", (int)n, msg);
}

const char *tgm_db_error(PGconn *c, char *buf, size_t size)
{
	first_line(c ? PQerrorMessage(c) : NULL, buf, size);
	return buf;
}

PGconn *tgm_db_connect(const char *url, int timeout_s, const char *app, char *err, size_t errlen)
{
	char timeout[16];
	const char *keys[] = { "dbname", "connect_timeout", "application_name", NULL };
	const char *vals[] = { url, timeout, app, NULL };
	PGconn *c;

	snprintf(timeout, sizeof(timeout), "%d", timeout_s);
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		char msg[256];
		snprintf(err, errlen, "cannot connect to the database: %s",
			 tgm_db_error(c, msg, sizeof(msg)));
		PQfinish(c);
		return NULL;
	}
	return c;
}

PGresult *tgm_db_query(PGconn *c, const char *sql, int n, const char *const *params, char *err,
		       size_t errlen)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	if (err)
		first_line(r ? PQresultErrorMessage(r) : PQerrorMessage(c), err, errlen);
	PQclear(r);
	return NULL;
}

bool tgm_db_exec(PGconn *c, const char *sql, int n, const char *const *params, char *err,
		 size_t errlen)
{
	PGresult *r = tgm_db_query(c, sql, n, params, err, errlen);

	PQclear(r);
	return r != NULL;
}
