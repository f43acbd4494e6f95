/*
 * db.h - blocking PostgreSQL access for start-up checks and tgmctl.
 *
 * Parameterized queries only (no SQL is ever built from input). Results are owned by
 * the caller (PQclear). Daemons use pgasync.h inside their event loop instead.
 */
#ifndef TGM_DB_H
#define TGM_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* tgm_db_connect - connect with a timeout; NULL with one line in err on failure */
PGconn *tgm_db_connect(const char *url, int timeout_s, const char *app, char *err, size_t errlen);

/*
 * tgm_db_query - run sql with n text parameters (NULL = SQL NULL).
 * Returns the result when it is COMMAND_OK or TUPLES_OK, else NULL with the server's
 * message in err (may be NULL). Caller PQclears.
 */
PGresult *tgm_db_query(PGconn *c, const char *sql, int n, const char *const *params, char *err,
		       size_t errlen);
/* tgm_db_exec - tgm_db_query for statements whose result is not needed; true on success */
bool tgm_db_exec(PGconn *c, const char *sql, int n, const char *const *params, char *err,
		 size_t errlen);

/* tgm_db_error - the first line of libpq's last error message for c */
const char *tgm_db_error(PGconn *c, char *buf, size_t size);

#endif
