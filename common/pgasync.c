/*
 * pgasync.c - a libpq connection on a libevent loop (see pgasync.h).
 *
 * States: DOWN (waiting for the retry timer), CONNECTING (PQconnectPoll steps),
 * READY (idle or one query in flight). The queue is a singly linked list; its head is
 * the query in flight when `busy`. Failed queries move to a list that a zero-delay
 * event completes, so callbacks never run re-entrantly inside tgm_pg_query.
 *
 * Prepared statements: a query with a statement (tgm_pg_query_prepared) whose statement
 * is not prepared on this connection yet gets internal queries queued ahead of it: the
 * SET of plan_cache_mode (once per connection), then the PQsendPrepare. A lost
 * connection forgets them all. A pooled connection (tgm_pg_pooled) prepares nothing and
 * sets nothing: every query is sent unnamed.
 */
#include "common/pgasync.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

enum pg_state { PG_DOWN, PG_CONNECTING, PG_READY };

/* a named statement, and where it stands on the current connection */
struct pg_stmt {
	struct pg_stmt *next;
	char *name;
	enum { STMT_NONE, STMT_PREPARING, STMT_READY, STMT_FAILED } state;
};

struct pg_query {
	struct pg_query *next;
	char *sql;
	int n;
	char **params;
	tgm_pg_cb cb;
	void *arg;
	const char *fail;     /* set when it is to be failed */
	struct pg_stmt *stmt; /* run as this prepared statement, when it is ready */
	bool prepare;         /* this one prepares stmt (PQsendPrepare of sql) */
};

struct tgm_pg {
	struct event_base *base;
	char *url, *app;
	PGconn *conn;
	enum pg_state state;
	struct event *ev_io;    /* read (persistent when READY) or connect-step io */
	struct event *ev_write; /* one-shot, while libpq has unflushed output */
	struct event *ev_retry;
	struct event *ev_fail;
	int backoff_ms;
	bool busy, was_up;
	PGresult *last;
	struct pg_query *head, *tail, *failed;
	int pending;
	char *listen; /* channel to LISTEN on, or NULL */
	tgm_pg_notify_cb on_notify;
	void *notify_arg;
	bool listening;        /* LISTEN is in effect on this connection */
	struct pg_stmt *stmts; /* the named statements ever used */
	bool generic;          /* plan_cache_mode set (or being set) on this connection */
	bool pooled;           /* behind a transaction pooler: no session state at all */
	unsigned long session; /* connections made so far (tgm_pg_session) */
};

static void pg_connect_start(struct tgm_pg *pg);
static void pg_send_next(struct tgm_pg *pg);

/* query_free - free a query, its SQL and its parameters */
static void query_free(struct pg_query *q)
{
	for (int i = 0; i < q->n; i++)
		free(q->params[i]);
	free(q->params);
	free(q->sql);
	free(q);
}

/* one_line - the first line of a libpq message, into buf */
static const char *one_line(const char *msg, char *buf, size_t size)
{
	if (msg == NULL || *msg == '\0')
		msg = "unknown database error";
	if (strncmp(msg, "ERROR:  ", 8) == 0 || strncmp(msg, "FATAL:  ", 8) == 0)
		msg += 8;
	snprintf(buf, size, "%.*s", (int)strcspn(msg, "\n"), msg);
	return buf;
}

/* fail_later - q fails with why from on_fail, never inside the caller's own call */
static void fail_later(struct tgm_pg *pg, struct pg_query *q, const char *why)
{
	q->fail = why;
	q->next = pg->failed;
	pg->failed = q;
	event_active(pg->ev_fail, 0, 0);
}

/* on_fail - the zero-delay event: call back every query set to fail, with its reason */
static void on_fail(evutil_socket_t fd, short what, void *arg)
{
	struct tgm_pg *pg = arg;

	while (pg->failed) {
		struct pg_query *q = pg->failed;

		pg->failed = q->next;
		pg->pending--;
		q->cb(NULL, q->fail, q->arg);
		query_free(q);
	}
}

/* fail_queue - every queued query (not the one in flight) fails with why */
static void fail_queue(struct tgm_pg *pg, const char *why)
{
	while (pg->head) {
		struct pg_query *q = pg->head;

		pg->head = q->next;
		fail_later(pg, q, why);
	}
	pg->tail = NULL;
}

/* pg_lost - the connection broke: fail what depended on it, retry with backoff */
static void pg_lost(struct tgm_pg *pg)
{
	char msg[256];
	struct timeval tv;

	if (pg->state == PG_READY || pg->was_up)
		log_warn("database connection lost: %s",
			 one_line(PQerrorMessage(pg->conn), msg, sizeof(msg)));
	else
		log_debug("database connection failed: %s",
			  one_line(pg->conn ? PQerrorMessage(pg->conn) : NULL, msg, sizeof(msg)));
	pg->was_up = false;
	pg->listening = false;
	pg->generic = false;
	for (struct pg_stmt *st = pg->stmts; st; st = st->next)
		st->state = STMT_NONE;
	if (pg->busy && pg->head) {
		struct pg_query *q = pg->head;

		pg->head = q->next;
		if (pg->head == NULL)
			pg->tail = NULL;
		fail_later(pg, q, "database connection lost: outcome unknown");
	}
	pg->busy = false;
	fail_queue(pg, "database unavailable");
	PQclear(pg->last);
	pg->last = NULL;
	event_del(pg->ev_io);
	event_del(pg->ev_write);
	PQfinish(pg->conn);
	pg->conn = NULL;
	pg->state = PG_DOWN;
	tv.tv_sec = pg->backoff_ms / 1000;
	tv.tv_usec = (pg->backoff_ms % 1000) * 1000;
	evtimer_add(pg->ev_retry, &tv);
	pg->backoff_ms = pg->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : pg->backoff_ms * 2;
}

/* complete_head - the query in flight is done: call back with its last result */
static void complete_head(struct tgm_pg *pg)
{
	struct pg_query *q = pg->head;
	PGresult *r = pg->last;
	ExecStatusType st = PQresultStatus(r);
	char msg[512];
	const char *err = NULL;

	pg->head = q->next;
	if (pg->head == NULL)
		pg->tail = NULL;
	pg->busy = false;
	pg->last = NULL;
	pg->pending--;
	if (r == NULL)
		err = "no result";
	else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		err = one_line(PQresultErrorMessage(r), msg, sizeof(msg));
	if (err && r && q->stmt && !q->prepare && q->stmt->state == STMT_READY) {
		const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		if (code && strcmp(code, "26000") == 0) /* gone (DISCARD ALL?): again next time */
			q->stmt->state = STMT_NONE;
	}
	q->cb(r, err, q->arg);
	PQclear(r);
	query_free(q);
}

/* pg_flush - send libpq's output; wait for the socket to be writable while some is left */
static void pg_flush(struct tgm_pg *pg)
{
	int r = PQflush(pg->conn);

	if (r < 0)
		pg_lost(pg);
	else if (r > 0)
		event_add(pg->ev_write, NULL);
}

/* deliver_notifies - every NOTIFY that arrived, to the listener */
static void deliver_notifies(struct tgm_pg *pg)
{
	PGnotify *n;

	while ((n = PQnotifies(pg->conn)) != NULL) {
		if (pg->on_notify && pg->listening)
			pg->on_notify(n->extra, pg->notify_arg);
		PQfreemem(n);
	}
}

/* on_readable - the socket has input: notifications out, the query in flight completed once
 * its results are in, then the next one sent (or the connection found lost) */
static void on_readable(struct tgm_pg *pg)
{
	if (!PQconsumeInput(pg->conn)) {
		pg_lost(pg);
		return;
	}
	deliver_notifies(pg);
	while (pg->busy && !PQisBusy(pg->conn)) {
		PGresult *r = PQgetResult(pg->conn);

		if (r == NULL) {
			complete_head(pg);
			break;
		}
		PQclear(pg->last);
		pg->last = r;
	}
	if (pg->state == PG_READY && PQstatus(pg->conn) == CONNECTION_BAD) {
		pg_lost(pg);
		return;
	}
	pg_send_next(pg);
}

/* on_io - the socket is ready: a connection step, or input on a ready connection */
static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct tgm_pg *pg = arg;

	if (pg->state == PG_CONNECTING)
		pg_connect_start(pg);
	else if (pg->state == PG_READY)
		on_readable(pg);
}

/* on_write - the socket takes output again: flush the rest */
static void on_write(evutil_socket_t fd, short what, void *arg)
{
	struct tgm_pg *pg = arg;

	if (pg->state == PG_READY)
		pg_flush(pg);
}

/* on_generic - SET plan_cache_mode: warn when it failed (the statements run anyway) */
static void on_generic(PGresult *res, const char *err, void *arg)
{
	if (err && res) /* the query that needed it runs anyway, with custom plans */
		log_warn("SET plan_cache_mode failed: %s", err);
}

/* on_prepared - a PREPARE of st: ready, or failed (its queries then run unprepared) */
static void on_prepared(PGresult *res, const char *err, void *arg)
{
	struct pg_stmt *st = arg;

	if (res == NULL) /* not sent, or the connection was lost: pg_lost reset it */
		return;
	if (err)
		log_warn("PREPARE %s failed, running it unprepared: %s", st->name, err);
	st->state = err ? STMT_FAILED : STMT_READY;
}

/* push_head - an internal query ahead of the others (none is in flight) */
static struct pg_query *push_head(struct tgm_pg *pg, const char *sql, tgm_pg_cb cb, void *arg)
{
	struct pg_query *q = tgm_xcalloc(1, sizeof(*q));

	q->sql = tgm_xstrdup(sql);
	q->params = tgm_xcalloc(1, sizeof(char *));
	q->cb = cb;
	q->arg = arg;
	q->next = pg->head;
	pg->head = q;
	if (pg->tail == NULL)
		pg->tail = q;
	pg->pending++;
	return q;
}

/* prepare_ahead - the head needs its statement prepared first: queue that ahead */
static void prepare_ahead(struct tgm_pg *pg)
{
	struct pg_query *q = pg->head, *p;

	p = push_head(pg, q->sql, on_prepared, q->stmt);
	p->stmt = q->stmt;
	p->prepare = true;
	q->stmt->state = STMT_PREPARING;
	if (!pg->generic) {
		pg->generic = true;
		push_head(pg, "SET plan_cache_mode = force_generic_plan", on_generic, NULL);
	}
}

/* pg_send_next - when ready and idle, send the head (prepared, preparing its statement
 * first, or unnamed); a failed send loses the connection */
static void pg_send_next(struct tgm_pg *pg)
{
	struct pg_query *q = pg->head;
	int ok;

	if (pg->state != PG_READY || pg->busy || q == NULL)
		return;
	if (q->stmt && !q->prepare && q->stmt->state == STMT_NONE) {
		prepare_ahead(pg);
		q = pg->head;
	}
	if (q->prepare)
		ok = PQsendPrepare(pg->conn, q->stmt->name, q->sql, 0, NULL);
	else if (q->stmt && q->stmt->state == STMT_READY)
		ok = PQsendQueryPrepared(pg->conn, q->stmt->name, q->n,
					 (const char *const *)q->params, NULL, NULL, 0);
	else
		ok = PQsendQueryParams(pg->conn, q->sql, q->n, NULL, (const char *const *)q->params,
				       NULL, NULL, 0);
	if (!ok) {
		pg->busy = true; /* so pg_lost fails this one too */
		pg_lost(pg);
		return;
	}
	pg->busy = true;
	pg_flush(pg);
}

/* on_listening - LISTEN: in effect, and one on_notify(NULL) as notices may have been missed */
static void on_listening(PGresult *res, const char *err, void *arg)
{
	struct tgm_pg *pg = arg;

	if (err) {
		log_warn("LISTEN %s failed: %s", pg->listen, err);
		return;
	}
	pg->listening = true;
	pg->on_notify(NULL, pg->notify_arg); /* whatever happened before is unknown */
}

/* send_listen - LISTEN first on a new connection, ahead of any queued query */
static void send_listen(struct tgm_pg *pg)
{
	struct pg_query *q = tgm_xcalloc(1, sizeof(*q));
	char *ident = PQescapeIdentifier(pg->conn, pg->listen, strlen(pg->listen));

	q->sql = tgm_xasprintf("LISTEN %s", ident ? ident : "\"\"");
	PQfreemem(ident);
	q->params = tgm_xcalloc(1, sizeof(char *));
	q->cb = on_listening;
	q->arg = pg;
	q->next = pg->head;
	pg->head = q;
	if (pg->tail == NULL)
		pg->tail = q;
	pg->pending++;
}

/* pg_ready - connected: watch the socket, LISTEN again if asked, send what waits */
static void pg_ready(struct tgm_pg *pg)
{
	if (pg->backoff_ms > BACKOFF_MIN_MS || pg->was_up)
		log_notice("database connection restored");
	pg->state = PG_READY;
	pg->was_up = true;
	pg->session++;
	pg->backoff_ms = BACKOFF_MIN_MS;
	PQsetnonblocking(pg->conn, 1);
	event_del(pg->ev_io);
	event_assign(pg->ev_io, pg->base, PQsocket(pg->conn), EV_READ | EV_PERSIST, on_io, pg);
	event_assign(pg->ev_write, pg->base, PQsocket(pg->conn), EV_WRITE, on_write, pg);
	event_add(pg->ev_io, NULL);
	if (pg->listen)
		send_listen(pg);
	pg_send_next(pg);
}

/* pg_connect_start - begin a connection, or take the next PQconnectPoll step */
static void pg_connect_start(struct tgm_pg *pg)
{
	PostgresPollingStatusType st;

	if (pg->state == PG_DOWN) {
		const char *keys[] = { "dbname", "application_name", NULL };
		const char *vals[] = { pg->url, pg->app, NULL };

		pg->conn = PQconnectStartParams(keys, vals, 1);
		if (pg->conn == NULL || PQstatus(pg->conn) == CONNECTION_BAD) {
			pg_lost(pg);
			return;
		}
		pg->state = PG_CONNECTING;
		st = PGRES_POLLING_WRITING;
	} else {
		st = PQconnectPoll(pg->conn);
	}
	if (st == PGRES_POLLING_OK) {
		pg_ready(pg);
	} else if (st == PGRES_POLLING_FAILED) {
		pg_lost(pg);
	} else {
		event_del(pg->ev_io);
		event_assign(pg->ev_io, pg->base, PQsocket(pg->conn),
			     st == PGRES_POLLING_READING ? EV_READ : EV_WRITE, on_io, pg);
		event_add(pg->ev_io, NULL);
	}
}

/* on_retry - the backoff timer: connect again */
static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	pg_connect_start(arg);
}

struct tgm_pg *tgm_pg_new(struct event_base *base, const char *url, const char *app)
{
	struct tgm_pg *pg = tgm_xcalloc(1, sizeof(*pg));

	pg->base = base;
	pg->url = tgm_xstrdup(url);
	pg->app = tgm_xstrdup(app);
	pg->backoff_ms = BACKOFF_MIN_MS;
	pg->ev_io = event_new(base, -1, 0, on_io, pg);
	pg->ev_write = event_new(base, -1, 0, on_write, pg);
	pg->ev_retry = evtimer_new(base, on_retry, pg);
	pg->ev_fail = event_new(base, -1, 0, on_fail, pg);
	pg_connect_start(pg);
	return pg;
}

/* enqueue - a query of the caller's at the tail (as its statement, when stmt is set) */
static void enqueue(struct tgm_pg *pg, struct pg_stmt *stmt, const char *sql, int n,
		    const char *const *params, tgm_pg_cb cb, void *arg)
{
	struct pg_query *q = tgm_xcalloc(1, sizeof(*q));

	q->stmt = stmt;
	q->sql = tgm_xstrdup(sql);
	q->n = n;
	q->params = tgm_xcalloc(n ? (size_t)n : 1, sizeof(char *));
	for (int i = 0; i < n; i++)
		q->params[i] = params[i] ? tgm_xstrdup(params[i]) : NULL;
	q->cb = cb;
	q->arg = arg;
	pg->pending++;
	if (pg->state == PG_DOWN) {
		fail_later(pg, q, "database unavailable");
		return;
	}
	if (pg->tail)
		pg->tail->next = q;
	else
		pg->head = q;
	pg->tail = q;
	pg_send_next(pg);
}

void tgm_pg_query(struct tgm_pg *pg, const char *sql, int n, const char *const *params,
		  tgm_pg_cb cb, void *arg)
{
	enqueue(pg, NULL, sql, n, params, cb, arg);
}

void tgm_pg_query_prepared(struct tgm_pg *pg, const char *name, const char *sql, int n,
			   const char *const *params, tgm_pg_cb cb, void *arg)
{
	struct pg_stmt *st = pg->stmts;

	if (pg->pooled) {
		enqueue(pg, NULL, sql, n, params, cb, arg);
		return;
	}
	while (st && strcmp(st->name, name) != 0)
		st = st->next;
	if (st == NULL) {
		st = tgm_xcalloc(1, sizeof(*st));
		st->name = tgm_xstrdup(name);
		st->next = pg->stmts;
		pg->stmts = st;
	}
	enqueue(pg, st, sql, n, params, cb, arg);
}

void tgm_pg_pooled(struct tgm_pg *pg)
{
	pg->pooled = true;
}

void tgm_pg_listen(struct tgm_pg *pg, const char *channel, tgm_pg_notify_cb cb, void *arg)
{
	free(pg->listen);
	pg->listen = tgm_xstrdup(channel);
	pg->on_notify = cb;
	pg->notify_arg = arg;
	if (pg->state == PG_READY && !pg->busy) {
		send_listen(pg);
		pg_send_next(pg);
	} else if (pg->state == PG_READY) {
		/* behind the query in flight: insert after the head */
		struct pg_query *q;

		send_listen(pg); /* became the head: swap it behind the busy one */
		q = pg->head;
		pg->head = q->next;
		q->next = pg->head->next;
		pg->head->next = q;
		if (pg->tail == pg->head)
			pg->tail = q;
	}
}

bool tgm_pg_listening(const struct tgm_pg *pg)
{
	return pg->state == PG_READY && pg->listening;
}

bool tgm_pg_connected(const struct tgm_pg *pg)
{
	return pg->state == PG_READY;
}

bool tgm_pg_transient(const PGresult *res)
{
	static const char *const classes[] = { "08", "40", "53", "57", "58" };
	const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (code == NULL || strlen(code) != 5)
		return true;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strncmp(code, classes[i], 2) == 0)
			return true;
	return strcmp(code, "55P03") == 0;
}

unsigned long tgm_pg_session(const struct tgm_pg *pg)
{
	return pg->session;
}

int tgm_pg_pending(const struct tgm_pg *pg)
{
	return pg->pending;
}

void tgm_pg_free(struct tgm_pg *pg)
{
	if (pg == NULL)
		return;
	if (pg->busy && pg->head) {
		struct pg_query *q = pg->head;

		pg->head = q->next;
		fail_later(pg, q, "database connection closed: outcome unknown");
	}
	fail_queue(pg, "database connection closed");
	on_fail(-1, 0, pg);
	PQclear(pg->last);
	PQfinish(pg->conn);
	event_free(pg->ev_io);
	event_free(pg->ev_write);
	event_free(pg->ev_retry);
	event_free(pg->ev_fail);
	free(pg->url);
	free(pg->app);
	free(pg->listen);
	while (pg->stmts) {
		struct pg_stmt *st = pg->stmts;

		pg->stmts = st->next;
		free(st->name);
		free(st);
	}
	free(pg);
}
