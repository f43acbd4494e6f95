/*
 * dbconn.h - which URL each database connection of a daemon takes.
 *
 * Behind PgBouncer in transaction mode ([database] url to PgBouncer, session_url
 * straight to PostgreSQL), a connection that needs a session of its own (LISTEN,
 * session advisory locks, migrations, tgmctl) takes session_url; every other one takes
 * url and is marked pooled (no named prepared statements, no session settings). With
 * session_url empty every connection takes url and keeps its statements.
 */
#ifndef TGM_DBCONN_H
#define TGM_DBCONN_H

#include "common/config.h"
#include "common/pgasync.h"

#include <libpq-fe.h>

enum tgm_dbconn_need {
	TGM_DBCONN_POOLED,  /* transactions only: may go through the pooler */
	TGM_DBCONN_SESSION, /* LISTEN, session locks: straight to PostgreSQL */
};

/* tgm_dbconn_url - the URL a connection with this need takes */
const char *tgm_dbconn_url(const struct tgm_config *cfg, enum tgm_dbconn_need need);
/* tgm_dbconn_async - a libevent-driven connection for need (pooled when it is pooled) */
struct tgm_pg *tgm_dbconn_async(struct event_base *base, const struct tgm_config *cfg,
				const char *app, enum tgm_dbconn_need need);
/* tgm_dbconn_sync - a blocking session connection (start-up, migrations, tgmctl); NULL
 * with one line in err */
PGconn *tgm_dbconn_sync(const struct tgm_config *cfg, const char *app, char *err, size_t errlen);

#endif
