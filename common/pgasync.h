/*
 * pgasync.h - one PostgreSQL connection driven by a libevent loop.
 *
 * Queries are queued and sent one at a time in order; each completes with a callback.
 * The connection is made in the background and remade with backoff when it drops.
 * A query that was in flight when the connection dropped completes with an error
 * saying its outcome is unknown. Queries made while a connection is being made wait
 * for it; queries made while the database is down (between attempts) fail at once,
 * asynchronously: a callback never runs inside tgm_pg_query.
 */
#ifndef TGM_PGASYNC_H
#define TGM_PGASYNC_H

#include <event2/event.h>
#include <libpq-fe.h>
#include <stdbool.h>

struct tgm_pg;

/*
 * tgm_pg_cb - completion. err is NULL on success (res is COMMAND_OK or TUPLES_OK),
 * else one line; res, when not NULL, is borrowed until the callback returns.
 */
typedef void (*tgm_pg_cb)(PGresult *res, const char *err, void *arg);

struct tgm_pg *tgm_pg_new(struct event_base *base, const char *url, const char *app);
/* tgm_pg_query - queue sql with n text parameters (copied); NULL params are SQL NULL */
void tgm_pg_query(struct tgm_pg *pg, const char *sql, int n, const char *const *params,
		  tgm_pg_cb cb, void *arg);
/*
 * tgm_pg_query_prepared - like tgm_pg_query, but sql is prepared as the statement name
 * on the connection at its first use (again after a reconnect), so it is parsed and
 * planned once, not on every call. The first preparation on a connection also sets
 * plan_cache_mode = force_generic_plan there, for all its later statements: one plan
 * for any values, which suits statements whose plan does not depend on them (arrays
 * for unnest, keys looked up by index). name and sql must stay the same for a name.
 * Where the preparation fails, the query runs unprepared.
 */
void tgm_pg_query_prepared(struct tgm_pg *pg, const char *name, const char *sql, int n,
			   const char *const *params, tgm_pg_cb cb, void *arg);
/*
 * tgm_pg_pooled - the connection goes through a pooler in transaction mode (PgBouncer),
 * so consecutive transactions may land on different server sessions: queries made with
 * tgm_pg_query_prepared run unnamed, and nothing is set on the session. Call it before
 * the first query. LISTEN needs a session: never on a pooled connection.
 */
void tgm_pg_pooled(struct tgm_pg *pg);
bool tgm_pg_connected(const struct tgm_pg *pg);
/*
 * tgm_pg_transient - a failed query's result (as its callback got it) says it may pass
 * when sent again: no result (the connection), or SQLSTATE class 08 (connection), 40
 * (serialization, deadlock), 53 (resources), 57 (operator intervention), 58 (system),
 * or 55P03 (lock not available). Anything else (bad data, a constraint, a syntax
 * error) fails the same way every time.
 */
bool tgm_pg_transient(const PGresult *res);

/*
 * tgm_pg_listen - LISTEN on channel now and after every reconnect; cb gets each
 * NOTIFY's payload. After a reconnect cb gets payload NULL: notifications may have
 * been missed while the connection was down. One channel per connection.
 */
typedef void (*tgm_pg_notify_cb)(const char *payload, void *arg);
void tgm_pg_listen(struct tgm_pg *pg, const char *channel, tgm_pg_notify_cb cb, void *arg);
/* tgm_pg_listening - LISTEN is in effect: no notification can be missed now */
bool tgm_pg_listening(const struct tgm_pg *pg);
/*
 * tgm_pg_session - the number of connections made so far: it changes when the
 * connection is remade, so a caller that keeps a transaction open across queries
 * (BEGIN, ..., COMMIT) can tell that its COMMIT ran on a new session, outside the
 * transaction, which the server rolled back when the old one dropped.
 */
unsigned long tgm_pg_session(const struct tgm_pg *pg);
/* tgm_pg_pending - queries queued or in flight */
int tgm_pg_pending(const struct tgm_pg *pg);
/* tgm_pg_free - close; queued queries complete with an error first */
void tgm_pg_free(struct tgm_pg *pg);

#endif
