/*
 * events.c - GET /v1/events: Server-Sent Events for the caller's tenant (docs/events.md).
 *
 * Message transitions are read from message_events with one cursor for all clients,
 * woken by the "msg.*" status stream (and by the one-second tick, in case the bus
 * dropped one); each client gets a batch's events of its tenant in one chunk. The
 * cursor stops at a missing id for up to GAP_WAIT_MS: a transaction that took a lower
 * id may commit after a higher one (else the id was rolled back).
 * An event's SSE id is its row's id, so a client that reconnects with
 * Last-Event-ID is first given what it missed from the database (at most
 * BACKFILL_MAX events, else a "reset" event), then joins the live stream; a new client
 * joins it at the cursor, at once (or, when nobody listened, after one query for all
 * that came meanwhile). Each tick
 * also sends every tenant its bots' queue depth, a "bot" event when a bot's enabled
 * state changed, a "daemons" event when a heartbeat changed, and the inbox's
 * "conversation" events (inboxevents.c); every KEEPALIVE_S a
 * comment line. All of it runs on a connection of its own: the accept path never
 * waits for it.
 *
 * A client whose unsent output passes MAX_PENDING bytes is dropped (its stream ended);
 * nothing is buffered for it beyond that. A backfill goes in batches, each written
 * out while the next is read.
 */
#include "gatewayd/gatewayd.h"
#include "gatewayd/events.h"
#include "common/buf.h"
#include "common/dbconn.h"
#include "common/log.h"
#include "common/pgasync.h"
#include "common/util.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define TICK_MS 1000
#define KEEPALIVE_S 15
#define MAX_PENDING (1024 * 1024)
#define LIVE_BATCH 500
#define BACKFILL_BATCH 200 /* well under MAX_PENDING: flushed between batches */
#define BACKFILL_MAX 10000
#define GAP_WAIT_MS 2000 /* how long a missing id may still be a transaction in flight */

/* glibc's sys/queue.h lacks the safe form: the body may remove elm */
#define EACH_CLIENT(elm, head, tmp) \
	for ((elm) = TAILQ_FIRST(head); (elm) && ((tmp) = TAILQ_NEXT(elm, link), 1); (elm) = (tmp))

/* campaign_id: the campaign that queued the message (campaign_start's metadata), else
 * null; a tenant's own metadata may only name a number there */
#define EVENT_JSON \
	"json_build_object('id', e.id, 'message_id', e.message_id, 'bot_id', m.bot_id," \
	" 'chat', m.chat, 'status', e.status, 'detail', e.detail, 'at', e.at," \
	" 'campaign_id', CASE WHEN jsonb_typeof(m.metadata->'campaign_id') = 'number'" \
	"  THEN m.metadata->'campaign_id' END)"

static const char live_sql[] =
	"SELECT e.id, m.tenant_id, " EVENT_JSON " FROM message_events e"
	" JOIN messages m ON m.id = e.message_id WHERE e.id > $1 ORDER BY e.id LIMIT 500";
static const char backfill_sql[] =
	"WITH top AS (SELECT coalesce(max(id), 0) AS s FROM message_events)"
	" SELECT top.s, b.id, b.j FROM top LEFT JOIN LATERAL"
	" (SELECT e.id, " EVENT_JSON " AS j FROM message_events e"
	"  JOIN messages m ON m.id = e.message_id WHERE e.id > $1 AND e.id <= top.s"
	"  AND m.tenant_id = $2 ORDER BY e.id LIMIT 200) b ON true ORDER BY b.id";
static const char queue_sql[] =
	"SELECT b.tenant_id, b.id, b.enabled, b.disabled_reason,"
	" (SELECT coalesce(sum(c.n), 0) FROM bot_status_counts c WHERE c.bot_id = b.id"
	"   AND c.status IN ('queued', 'retrying')),"
	" (SELECT coalesce(sum(c.n), 0) FROM bot_status_counts c WHERE c.bot_id = b.id"
	"   AND c.status = 'sending')"
	" FROM bots b WHERE b.tenant_id = ANY($1::bigint[]) AND b.deleted_at IS NULL"
	" ORDER BY b.tenant_id, b.id";
static const char cursor_sql[] = "SELECT coalesce(max(id), 0) FROM message_events";
static const char daemons_sql[] =
	"SELECT coalesce(json_agg(json_build_object('name', name, 'instance', instance,"
	" 'host', host, 'pid', pid, 'version', version, 'started_at', started_at,"
	" 'seen_at', seen_at, 'stopped_at', stopped_at) ORDER BY name, instance, host), '[]')"
	" FROM daemons WHERE stopped_at IS NULL OR stopped_at > now() - interval '1 hour'";

struct ev_client {
	struct gw_events *ev;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	int64_t tenant_id;
	int64_t last_id;  /* message events up to here are sent (or not this tenant's) */
	int64_t asked_id; /* Last-Event-ID, or -1 */
	bool backfilling; /* not yet on the live stream */
	bool querying;    /* a backfill query holds this client */
	bool gone;        /* left while querying: freed when the query ends */
	bool at_cursor;   /* new: joins the live stream once the cursor is known */
	bool chunked;     /* the reply is in HTTP chunks (HTTP/1.1) */
	TAILQ_ENTRY(ev_client) link;
};

struct bot_state {
	int64_t tenant_id, bot_id;
	bool enabled;
};

struct gw_events {
	struct gatewayd *gw;
	struct tgm_pg *pg;
	TAILQ_HEAD(, ev_client) clients;
	int nclients;
	int64_t cursor; /* live: message events up to here are handled */
	bool cursor_known;
	int64_t gap_since_ms; /* the id after the cursor is missing since, or 0 */
	bool fetching, again;
	bool finding; /* the cursor's query is out, for the new clients waiting on it */
	bool ticking;
	int ticks;
	struct event *ev_tick;
	struct tgm_buf out; /* scratch for one chunk */
	char *daemons;      /* the last daemons snapshot */
	struct bot_state *bots;
	size_t nbots;
	unsigned long dropped;
};

/* client_free - forget a client; its request belongs to libevent */
static void client_free(struct ev_client *c)
{
	TAILQ_REMOVE(&c->ev->clients, c, link);
	c->ev->nclients--;
	evhttp_connection_set_closecb(c->conn, NULL, NULL);
	if (c->querying)
		c->gone = true;
	else
		free(c);
}

/* client_end - end the stream politely and forget the client */
static void client_end(struct ev_client *c)
{
	evhttp_send_reply_end(c->req);
	client_free(c);
}

/* on_close - the connection is going away. Where the client hung up, libevent has let
 * go of the stream's request (it is ours, unfinished): ending it frees it. */
static void on_close(struct evhttp_connection *conn, void *arg)
{
	struct ev_client *c = arg;
	struct evhttp_request *req = c->req;

	client_free(c);
	if (evhttp_request_get_connection(req) == NULL)
		evhttp_send_reply_end(req);
}

/* client_write - one HTTP chunk of p straight to the socket while nothing of c's waits
 * in libevent's output (for a client that keeps up: no copy, no poll change); what the
 * socket does not take now, or all of it behind output that waits, goes to that output */
static void client_write(struct bufferevent *bev, const char *p, size_t len)
{
	char head[24];
	struct iovec iov[3] = { { head, 0 }, { (void *)p, len }, { "\r\n", 2 } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 3 };
	ssize_t n = 0;

	iov[0].iov_len = (size_t)snprintf(head, sizeof(head), "%zx\r\n", len);
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		n = sendmsg(bufferevent_getfd(bev), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		n = 0; /* full, or broken: libevent's write finds out which */
	for (int i = 0; i < 3; i++) {
		size_t sent = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;

		n -= (ssize_t)sent;
		if (sent < iov[i].iov_len)
			bufferevent_write(bev, (char *)iov[i].iov_base + sent,
					  iov[i].iov_len - sent);
	}
}

/* client_flush - send what ev->out holds to c as one chunk; false when c was dropped for
 * being slow (ev->out is emptied either way) */
static bool client_flush(struct ev_client *c)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->conn);
	struct tgm_buf *out = &c->ev->out;

	if (evbuffer_get_length(bufferevent_get_output(bev)) + out->len > MAX_PENDING) {
		log_notice("events: dropping a slow client of tenant %lld",
			   (long long)c->tenant_id);
		tgm_buf_reset(out);
		c->ev->dropped++;
		client_end(c);
		return false;
	}
	if (c->chunked) {
		client_write(bev, out->p, out->len);
	} else { /* HTTP/1.0: the stream's bytes as they are, through libevent */
		struct evbuffer *b = evbuffer_new();

		evbuffer_add(b, out->p, out->len);
		evhttp_send_reply_chunk(c->req, b);
		evbuffer_free(b);
	}
	tgm_buf_reset(out);
	return true;
}

/* client_send - one SSE frame to c; false when c was dropped for being slow */
static bool client_send(struct ev_client *c, const char *text, size_t len)
{
	tgm_buf_add(&c->ev->out, text, len);
	return client_flush(c);
}

/* frame - "id:/event:/data:" of one event (id < 0: none); caller frees */
static char *frame(int64_t id, const char *event, const char *data)
{
	if (id >= 0)
		return tgm_xasprintf("id: %lld\nevent: %s\ndata: %s\n\n", (long long)id, event,
				     data);
	return tgm_xasprintf("event: %s\ndata: %s\n\n", event, data);
}

/* to_tenant - data as event to every live client of tenant (0: every client) */
static void to_tenant(struct gw_events *ev, int64_t tenant, const char *event, const char *data)
{
	struct ev_client *c, *next;
	char *f = frame(-1, event, data);
	size_t n = strlen(f);

	EACH_CLIENT(c, &ev->clients, next)
	if (!c->backfilling && (tenant == 0 || c->tenant_id == tenant))
		client_send(c, f, n);
	free(f);
}

void gw_events_send(struct gw_events *ev, int64_t tenant, const char *event, const char *data)
{
	to_tenant(ev, tenant, event, data);
}

static void fetch_live(struct gw_events *ev);

/* past_gap - may the cursor move on to id? Not while a missing id may still commit */
static bool past_gap(struct gw_events *ev, int64_t id)
{
	int64_t now = tgm_mono_ms();

	if (id == ev->cursor + 1) {
		ev->gap_since_ms = 0;
		return true;
	}
	if (ev->gap_since_ms == 0)
		ev->gap_since_ms = now;
	if (now - ev->gap_since_ms < GAP_WAIT_MS)
		return false;
	ev->gap_since_ms = 0; /* rolled back: skip it */
	return true;
}

/* live_ready - how many of the rows the cursor may pass (it stops at a gap) */
static int live_ready(struct gw_events *ev, PGresult *res, int rows)
{
	int64_t id = ev->cursor;
	int n = 0;

	while (n < rows && tgm_parse_int64(PQgetvalue(res, n, 0), &id) && past_gap(ev, id)) {
		ev->cursor = id;
		n++;
	}
	return n;
}

/* live_send - the first n rows to the live clients: each gets its tenant's events,
 * those it has not had, in one chunk */
static void live_send(struct gw_events *ev, PGresult *res, int n)
{
	struct live_row {
		int64_t id, tenant;
		char *frame;
		size_t len;
	} *row = tgm_xcalloc((size_t)n, sizeof(*row));
	struct ev_client *c, *next;

	for (int i = 0; i < n; i++) {
		tgm_parse_int64(PQgetvalue(res, i, 0), &row[i].id);
		tgm_parse_int64(PQgetvalue(res, i, 1), &row[i].tenant);
		row[i].frame = frame(row[i].id, "message", PQgetvalue(res, i, 2));
		row[i].len = strlen(row[i].frame);
	}
	EACH_CLIENT(c, &ev->clients, next)
	{
		int64_t last = c->last_id;

		if (c->backfilling)
			continue;
		for (int i = 0; i < n; i++)
			if (row[i].tenant == c->tenant_id && row[i].id > c->last_id) {
				tgm_buf_add(&ev->out, row[i].frame, row[i].len);
				last = row[i].id;
			}
		if (last != c->last_id && client_flush(c))
			c->last_id = last;
	}
	for (int i = 0; i < n; i++)
		free(row[i].frame);
	free(row);
}

/* on_live - message events past the cursor: to the clients of their tenant */
static void on_live(PGresult *res, const char *err, void *arg)
{
	struct gw_events *ev = arg;
	int rows = err ? 0 : PQntuples(res), n;

	ev->fetching = false;
	if (err) {
		log_warn("events: %s", err);
		return;
	}
	n = live_ready(ev, res, rows);
	if (n > 0)
		live_send(ev, res, n);
	if (n < rows)
		return; /* a gap: the next tick looks again */
	if (rows == LIVE_BATCH || ev->again)
		fetch_live(ev);
}

/* fetch_live - read the message events past the cursor, one query at a time */
static void fetch_live(struct gw_events *ev)
{
	char cursor[24];

	ev->again = false;
	if (ev->nclients == 0) {
		ev->cursor_known = false; /* nobody listens: the next client sets it again */
		return;
	}
	if (ev->fetching || !ev->cursor_known) {
		ev->again = true;
		return;
	}
	ev->fetching = true;
	snprintf(cursor, sizeof(cursor), "%lld", (long long)ev->cursor);
	tgm_pg_query(ev->pg, live_sql, 1, (const char *const[]){ cursor }, on_live, ev);
}

void gw_events_wake(struct gw_events *ev)
{
	if (ev)
		fetch_live(ev);
}

static void backfill(struct ev_client *c);

/* cursor_learn - where the live stream stands, when nobody has set it since it was last
 * forgotten (a backfill's end or the cursor's query, whichever comes first) */
static void cursor_learn(struct gw_events *ev, int64_t id)
{
	if (ev->cursor_known)
		return;
	ev->cursor = id;
	ev->cursor_known = true;
	ev->gap_since_ms = 0;
}

/* backfill_done - the client is up to date with the database: live from now */
static void backfill_done(struct ev_client *c)
{
	struct gw_events *ev = c->ev;

	cursor_learn(ev, c->last_id);
	if (ev->cursor > c->last_id) { /* live went past while this client read */
		backfill(c);
		return;
	}
	c->backfilling = false;
	if (ev->daemons) {
		char *f = frame(-1, "daemons", ev->daemons);

		client_send(c, f, strlen(f));
		free(f);
	}
	if (ev->again)
		fetch_live(ev);
}

/* on_backfill - the events a reconnecting client missed: send them, then go live */
static void on_backfill(PGresult *res, const char *err, void *arg)
{
	struct ev_client *c = arg;
	int64_t top, id = -1;
	int rows, sent = 0;
	char *f;

	c->querying = false;
	if (c->gone) { /* the client left meanwhile */
		free(c);
		return;
	}
	if (err) {
		log_warn("events: %s", err);
		client_end(c);
		return;
	}
	rows = PQntuples(res);
	tgm_parse_int64(PQgetvalue(res, 0, 0), &top);
	if (c->asked_id >= 0 && (c->asked_id > top || top - c->asked_id > BACKFILL_MAX)) {
		if (!client_send(c, "event: reset\ndata: {}\n\n", 23))
			return;
		c->last_id = top; /* too far behind (or ahead): reload, then live */
		c->asked_id = -1;
		backfill_done(c);
		return;
	}
	c->asked_id = -1;
	for (int i = 0; i < rows && !PQgetisnull(res, i, 1); i++, sent++) {
		tgm_parse_int64(PQgetvalue(res, i, 1), &id);
		f = frame(id, "message", PQgetvalue(res, i, 2));
		if (!client_send(c, f, strlen(f))) {
			free(f);
			return;
		}
		free(f);
	}
	if (sent == BACKFILL_BATCH) {
		c->last_id = id;
		backfill(c);
		return;
	}
	c->last_id = top > c->last_id ? top : c->last_id;
	backfill_done(c);
}

/* backfill - what the client missed since last_id, from the database */
static void backfill(struct ev_client *c)
{
	char from[24], tenant[24];

	snprintf(from, sizeof(from), "%lld", (long long)c->last_id);
	snprintf(tenant, sizeof(tenant), "%lld", (long long)c->tenant_id);
	c->querying = true;
	tgm_pg_query(c->ev->pg, backfill_sql, 2, (const char *const[]){ from, tenant }, on_backfill,
		     c);
}

/* join_live - the new clients waiting for the cursor join the live stream there */
static void join_live(struct gw_events *ev)
{
	struct ev_client *c, *next;

	EACH_CLIENT(c, &ev->clients, next)
	if (c->at_cursor) {
		c->at_cursor = false;
		c->last_id = ev->cursor;
		backfill_done(c);
	}
}

/* on_cursor - where the live stream stands, for the new clients (one query for all that
 * came meanwhile); a backfill may have set it first */
static void on_cursor(PGresult *res, const char *err, void *arg)
{
	struct gw_events *ev = arg;
	struct ev_client *c, *next;
	int64_t top;

	ev->finding = false;
	if (err) {
		log_warn("events: %s", err);
		EACH_CLIENT(c, &ev->clients, next)
		if (c->at_cursor)
			client_end(c);
		return;
	}
	if (tgm_parse_int64(PQgetvalue(res, 0, 0), &top))
		cursor_learn(ev, top);
	join_live(ev);
}

/* find_cursor - ask where the live stream stands, unless that is already asked */
static void find_cursor(struct gw_events *ev)
{
	if (ev->finding)
		return;
	ev->finding = true;
	tgm_pg_query(ev->pg, cursor_sql, 0, NULL, on_cursor, ev);
}

/* bot_changed - did the bot's enabled state change since the last tick? */
static bool bot_changed(struct gw_events *ev, size_t *j, int64_t tenant, int64_t bot, bool enabled)
{
	while (*j < ev->nbots && (ev->bots[*j].tenant_id < tenant ||
				  (ev->bots[*j].tenant_id == tenant && ev->bots[*j].bot_id < bot)))
		(*j)++;
	return *j < ev->nbots && ev->bots[*j].tenant_id == tenant && ev->bots[*j].bot_id == bot &&
	       ev->bots[*j].enabled != enabled;
}

/* bot_event - a bot's health changed: tell its tenant */
static void bot_event(struct gw_events *ev, PGresult *res, int i, int64_t tenant)
{
	yajl_gen g = tgm_jgen_new();

	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "bot_id", strtoll(PQgetvalue(res, i, 1), NULL, 10));
	tgm_jgen_kbool(g, "enabled", PQgetvalue(res, i, 2)[0] == 't');
	tgm_jgen_kstr(g, "disabled_reason", PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3));
	yajl_gen_map_close(g);
	to_tenant(ev, tenant, "bot", tgm_jgen_text(g, NULL));
	yajl_gen_free(g);
}

/* queue_flush - one tenant's "queue" event from the generator g (then freed) */
static void queue_flush(struct gw_events *ev, int64_t tenant, yajl_gen g)
{
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	to_tenant(ev, tenant, "queue", tgm_jgen_text(g, NULL));
	yajl_gen_free(g);
}

/* on_queue - the bots of the tenants listening: depth per tenant, health changes */
static void on_queue(PGresult *res, const char *err, void *arg)
{
	struct gw_events *ev = arg;
	struct bot_state *now;
	int64_t tenant, cur = 0;
	yajl_gen g = NULL;
	size_t j = 0;
	int rows;

	if (err) {
		log_warn("events: %s", err);
		return;
	}
	rows = PQntuples(res);
	now = tgm_xcalloc((size_t)rows + 1, sizeof(*now));
	for (int i = 0; i < rows; i++) {
		tgm_parse_int64(PQgetvalue(res, i, 0), &tenant);
		tgm_parse_int64(PQgetvalue(res, i, 1), &now[i].bot_id);
		now[i].tenant_id = tenant;
		now[i].enabled = PQgetvalue(res, i, 2)[0] == 't';
		if (bot_changed(ev, &j, tenant, now[i].bot_id, now[i].enabled))
			bot_event(ev, res, i, tenant);
		if (g && tenant != cur)
			queue_flush(ev, cur, g), g = NULL;
		if (g == NULL) {
			cur = tenant;
			g = tgm_jgen_new();
			yajl_gen_map_open(g);
			tgm_jgen_key(g, "bots");
			yajl_gen_array_open(g);
		}
		yajl_gen_map_open(g);
		tgm_jgen_kint(g, "bot_id", now[i].bot_id);
		tgm_jgen_kbool(g, "enabled", now[i].enabled);
		tgm_jgen_kint(g, "queued", strtoll(PQgetvalue(res, i, 4), NULL, 10));
		tgm_jgen_kint(g, "sending", strtoll(PQgetvalue(res, i, 5), NULL, 10));
		yajl_gen_map_close(g);
	}
	if (g)
		queue_flush(ev, cur, g);
	free(ev->bots);
	ev->bots = now;
	ev->nbots = (size_t)rows;
}

/* on_daemons - the daemons' heartbeats: a "daemons" event when they changed */
static void on_daemons(PGresult *res, const char *err, void *arg)
{
	struct gw_events *ev = arg;
	const char *json;

	ev->ticking = false;
	if (err) {
		log_warn("events: %s", err);
		return;
	}
	json = PQgetvalue(res, 0, 0);
	if (ev->daemons && strcmp(ev->daemons, json) == 0)
		return;
	free(ev->daemons);
	ev->daemons = tgm_xstrdup(json);
	to_tenant(ev, 0, "daemons", json);
}

/* tenants - the tenants with a live client, as a PostgreSQL array literal; caller frees */
static char *tenants(struct gw_events *ev)
{
	struct ev_client *c;
	struct tgm_buf b;
	int64_t *seen = tgm_xcalloc((size_t)ev->nclients + 1, sizeof(*seen));
	size_t n = 0, i;
	char id[24];

	tgm_buf_init(&b);
	TAILQ_FOREACH(c, &ev->clients, link)
	{
		for (i = 0; i < n && seen[i] != c->tenant_id; i++)
			;
		if (c->backfilling || i < n)
			continue;
		seen[n++] = c->tenant_id;
		snprintf(id, sizeof(id), "%lld", (long long)c->tenant_id);
		tgm_pgarr_add(&b, id);
	}
	tgm_pgarr_end(&b);
	free(seen);
	return tgm_buf_steal(&b);
}

/* on_tick - every second with clients: queue depths, health, heartbeats, keepalive */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw_events *ev = arg;
	struct ev_client *c, *next;
	char *list;

	if (ev->nclients == 0)
		return;
	if (++ev->ticks % KEEPALIVE_S == 0)
		EACH_CLIENT(c, &ev->clients, next)
	client_send(c, ": keepalive\n\n", 13);
	fetch_live(ev);
	if (ev->ticking)
		return; /* the database is slow: skip a beat rather than queue up */
	ev->ticking = true;
	list = tenants(ev);
	tgm_pg_query(ev->pg, queue_sql, 1, (const char *const[]){ list }, on_queue, ev);
	tgm_pg_query(ev->pg, daemons_sql, 0, NULL, on_daemons, ev);
	gw_inboxevents_tick(ev, ev->pg, list);
	free(list);
}

void gw_events_open(struct gw_req *r)
{
	struct gw_events *ev = r->gw->events;
	struct ev_client *c = tgm_xcalloc(1, sizeof(*c));
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	const char *last = gw_header(r, "Last-Event-ID"), *te;

	if (last == NULL)
		last = gw_query(r, "last_event_id");
	c->ev = ev;
	c->req = r->req;
	c->conn = evhttp_request_get_connection(r->req);
	c->tenant_id = r->tenant_id;
	c->asked_id = -1;
	if (last && (!tgm_parse_int64(last, &c->asked_id) || c->asked_id < 0))
		c->asked_id = -1;
	c->last_id = c->asked_id;
	c->backfilling = true;
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Accel-Buffering", "no");
	tgm_http_stream_start(r->req);
	te = evhttp_find_header(h, "Transfer-Encoding");
	c->chunked = te && strcmp(te, "chunked") == 0;
	evhttp_connection_set_closecb(c->conn, on_close, c);
	TAILQ_INSERT_TAIL(&ev->clients, c, link);
	ev->nclients++;
	gw_req_free(r); /* the stream is the client's now */
	client_send(c, "retry: 2000\n\n", 13);
	if (c->asked_id < 0) { /* nothing missed: live from the cursor */
		c->at_cursor = true;
		if (ev->cursor_known)
			join_live(ev);
		else
			find_cursor(ev);
		return;
	}
	backfill(c);
}

struct gw_events *gw_events_new(struct gatewayd *gw)
{
	struct gw_events *ev = tgm_xcalloc(1, sizeof(*ev));
	struct timeval tv = { TICK_MS / 1000, (TICK_MS % 1000) * 1000 };

	ev->gw = gw;
	ev->pg = tgm_dbconn_async(gw->ctx->base, gw->ctx->cfg, "gatewayd-events",
				  TGM_DBCONN_POOLED);
	TAILQ_INIT(&ev->clients);
	tgm_buf_init(&ev->out);
	ev->ev_tick = event_new(gw->ctx->base, -1, EV_PERSIST, on_tick, ev);
	event_add(ev->ev_tick, &tv);
	return ev;
}

void gw_events_close_all(struct gw_events *ev)
{
	struct ev_client *c;

	while (ev && (c = TAILQ_FIRST(&ev->clients)) != NULL)
		client_end(c);
}

int gw_events_clients(const struct gw_events *ev)
{
	return ev ? ev->nclients : 0;
}

unsigned long gw_events_dropped(const struct gw_events *ev)
{
	return ev ? ev->dropped : 0;
}

void gw_events_free(struct gw_events *ev)
{
	if (ev == NULL)
		return;
	gw_events_close_all(ev);
	tgm_pg_free(ev->pg); /* its callbacks run now, with an error */
	event_free(ev->ev_tick);
	tgm_buf_free(&ev->out);
	free(ev->daemons);
	free(ev->bots);
	free(ev);
}
