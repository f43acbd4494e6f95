/*
 * record.c - every transition of a message leaving 'sending' is a row change and an
 * event row, committed in groups on senderd's own connection: while one group is in
 * flight the next gathers, so a busy lane costs one statement per group, not per
 * message. After the COMMIT the commit callback hears of the group's transitions (in
 * senderd, server.c publishes them, tells their lanes, which claim again if their last
 * claim passed over a due message, and wakes the callback lane); the writer itself knows
 * nothing of lanes or buses.
 *
 * The UPDATE only touches rows still in 'sending', so a group sent again after a
 * lost connection (its outcome unknown) changes nothing twice and adds no event twice.
 * It asks for 'sending' as IS NOT DISTINCT FROM, never as an equality: that would let
 * the planner read the rows from messages_sending, which statistics taken while nothing
 * was in flight (the usual case) call empty, and it then hashed every message in flight
 * to update a group (5,000 in flight read to record 16) instead of finding each by id.
 * It is prepared, planned once (its planning was 0.6-1.4 ms of a group's 2-4 ms), and
 * takes its rows from sql/functions/sd_transitions.sql, which says why. The UPDATE
 * returns what the event and callback rows need: joined with the group's rows again,
 * estimated at one, it became a nested loop of n x n (61 ms for a group of 500).
 * A message given back to 'queued' whose bot was deleted meanwhile is canceled.
 * A final status queues its delivery callback, whose JSON is callback_payload()
 * (sql/functions/callback_payload.sql), the one copy gatewayd's cancels use too.
 *
 * A group that fails for a reason that would fail it again (bad data, a constraint:
 * tgm_pg_transient says which) is recorded again one transition at a time, so the one
 * at fault fails alone: it is dropped with an error line naming it, its message stays
 * in 'sending' (the bot's next lane resolves it under [senderd] ambiguous), and every
 * later transition still commits. A detail is cut on a UTF-8 boundary first, so that
 * a long description cut by bytes is not what fails.
 */
#include "senderd/record.h"
#include "common/buf.h"
#include "common/dbconn.h"
#include "common/log.h"
#include "common/pgasync.h"
#include "common/utf8.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define RETRY_MS 1000
#define DETAIL_MAX 1000 /* bytes of a transition's detail */

struct item {
	struct item *next;
	int64_t msg_id, bot_id, tg_id;
	enum tgm_msg_status status;
	char *detail;
	int64_t due_ms; /* wall clock: when a retry is due */
	char *sql;      /* a one-off statement instead of a transition */
	bool alone;     /* recorded in a group of its own (its group failed) */
	int n;
	char **params;
};

struct record {
	record_commit_fn on_commit;
	void *arg;
	struct tgm_pg *pg;
	struct item *head, *tail; /* waiting */
	struct item *flight;      /* in flight */
	int pending;
	struct event *ev_retry;
};

static const char transition_sql[] =
	"WITH t AS (SELECT * FROM sd_transitions($1::bigint[], $2::text[], $3::text[],"
	"  $4::bigint[], $5::bigint[])),"
	" u AS (UPDATE messages m SET updated_at = now(),"
	"  status = CASE WHEN t.status = 'queued' AND EXISTS (SELECT 1 FROM bots b"
	"   WHERE b.id = m.bot_id AND b.deleted_at IS NOT NULL) THEN 'canceled' ELSE t.status END,"
	"  telegram_message_id = coalesce(t.tg_id, m.telegram_message_id),"
	"  sent_at = CASE WHEN t.status = 'sent' THEN now() ELSE m.sent_at END,"
	"  last_error = CASE WHEN t.status = 'sent' THEN m.last_error"
	"   ELSE coalesce(t.detail, m.last_error) END,"
	"  not_before = CASE WHEN t.status = 'retrying'"
	"   THEN to_timestamp(t.due_ms / 1000.0) ELSE m.not_before END,"
	"  attempts = CASE WHEN t.status = 'queued' THEN greatest(m.attempts - 1, 0)"
	"   ELSE m.attempts END"
	"  FROM t WHERE m.id = t.id AND m.status IS NOT DISTINCT FROM 'sending'"
	"  RETURNING m.id, m.status, m.tenant_id, m.bot_id, m.chat, m.attempts, m.callback_url,"
	"  m.metadata, t.tg_id, CASE WHEN m.status = t.status THEN t.detail"
	"   ELSE 'bot deleted' END AS detail),"
	" ev AS (INSERT INTO message_events (message_id, status, detail)"
	"  SELECT u.id, u.status, u.detail FROM u),"
	" cb AS (INSERT INTO callbacks (message_id, tenant_id, url, payload)"
	"  SELECT u.id, u.tenant_id, coalesce(u.callback_url, tn.webhook_url),"
	"  callback_payload(u.id, u.bot_id, u.chat, u.status, u.tg_id, u.detail, u.attempts,"
	"   u.metadata)"
	"  FROM u JOIN tenants tn ON tn.id = u.tenant_id"
	"  WHERE u.status IN ('sent', 'failed', 'expired', 'canceled')"
	"  AND coalesce(u.callback_url, tn.webhook_url) IS NOT NULL RETURNING id)"
	" SELECT count(*) FROM cb";

static void flush(struct record *rec);

/* item_free - free one queued transition or statement */
static void item_free(struct item *it)
{
	for (int i = 0; i < it->n; i++)
		free(it->params[i]);
	free(it->params);
	free(it->sql);
	free(it->detail);
	free(it);
}

/* push - queue it behind the others and write if nothing is in flight */
static void push(struct record *rec, struct item *it)
{
	if (rec->tail)
		rec->tail->next = it;
	else
		rec->head = it;
	rec->tail = it;
	rec->pending++;
	flush(rec);
}

void record_add(struct record *rec, int64_t msg_id, int64_t bot_id, enum tgm_msg_status status,
		const char *detail, int64_t tg_message_id, int delay_ms)
{
	struct item *it = tgm_xcalloc(1, sizeof(*it));

	it->msg_id = msg_id;
	it->bot_id = bot_id;
	it->tg_id = tg_message_id;
	it->status = status;
	if (detail) {
		it->detail = tgm_xstrdup(detail);
		tgm_utf8_cut(it->detail, DETAIL_MAX);
	}
	it->due_ms = tgm_now_ms() + delay_ms; /* the lane's timer is set from the same instant */
	push(rec, it);
}

void record_exec(struct record *rec, const char *sql, int n, const char *const *params)
{
	struct item *it = tgm_xcalloc(1, sizeof(*it));

	it->sql = tgm_xstrdup(sql);
	it->n = n;
	it->params = tgm_xcalloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; i < n; i++)
		it->params[i] = params[i] ? tgm_xstrdup(params[i]) : NULL;
	push(rec, it);
}

int record_pending(const struct record *rec)
{
	return rec->pending;
}

int record_pending_of(const struct record *rec, int64_t bot_id)
{
	int n = 0;

	for (const struct item *it = rec->head; it; it = it->next)
		n += it->bot_id == bot_id;
	for (const struct item *it = rec->flight; it; it = it->next)
		n += it->bot_id == bot_id;
	return n;
}

/* done - the group committed: tell the commit callback its transitions, then free it
 * (taken off first: the callback may start the next group) */
static void done(struct record *rec, bool callbacks)
{
	struct item *group = rec->flight;
	struct record_change *c;
	int n = 0, k = 0;

	rec->flight = NULL;
	for (struct item *it = group; it; it = it->next)
		n++;
	c = tgm_xcalloc((size_t)n + 1, sizeof(*c));
	for (struct item *it = group; it; it = it->next)
		if (it->sql == NULL)
			c[k++] = (struct record_change){ it->msg_id, it->bot_id, it->status,
							 it->detail };
	rec->pending -= n;
	if (k > 0 || callbacks)
		rec->on_commit(c, k, callbacks, rec->arg);
	free(c);
	while (group) {
		struct item *it = group;

		group = it->next;
		item_free(it);
	}
}

/* requeue - the group's outcome is unknown: put it back in front and try again */
static void requeue(struct record *rec)
{
	struct item *last = rec->flight;
	struct timeval tv = { RETRY_MS / 1000, 0 };

	while (last->next)
		last = last->next;
	last->next = rec->head;
	if (rec->head == NULL)
		rec->tail = last;
	rec->head = rec->flight;
	rec->flight = NULL;
	evtimer_add(rec->ev_retry, &tv);
}

/* isolate - a group failed for good: each of its transitions goes again on its own */
static void isolate(struct record *rec)
{
	int n = 0;

	for (struct item *it = rec->flight; it; it = it->next, n++)
		it->alone = true;
	log_warn("a group of %d transitions failed for good: recording them one by one", n);
	requeue(rec);
	event_del(rec->ev_retry); /* no wait: nothing transient is in the way */
}

/* drop - the one item in flight fails for good: say which, and go on without it */
static void drop(struct record *rec, const char *err)
{
	struct item *it = rec->flight;

	if (it->sql)
		log_error("statement failed and is dropped: %s", err);
	else
		log_error("bot=%lld msg=%lld transition to %s failed and is dropped (the message"
			  " stays in sending): %s",
			  (long long)it->bot_id, (long long)it->msg_id,
			  tgm_msg_status_name(it->status), err);
	rec->flight = NULL;
	rec->pending--;
	item_free(it);
}

/* failed - retry what may pass, isolate a failed group, drop a failed single */
static void failed(struct record *rec, PGresult *res, const char *err)
{
	if (tgm_pg_transient(res) || !tgm_pg_connected(rec->pg)) {
		log_warn("transitions not recorded yet, retrying: %s", err);
		requeue(rec);
		return;
	}
	if (rec->flight->next)
		isolate(rec);
	else
		drop(rec, err);
	flush(rec);
}

/* on_written - a group committed (report it, take the next) or failed (see failed) */
static void on_written(PGresult *res, const char *err, void *arg)
{
	struct record *rec = arg;
	bool callbacks;

	if (err) {
		failed(rec, res, err);
		return;
	}
	callbacks = rec->flight->sql == NULL && PQntuples(res) == 1 &&
		    strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	done(rec, callbacks);
	flush(rec);
}

/* on_retry - the wait after a transient failure is over: write again */
static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	flush(arg);
}

/* take - the next group: one one-off statement, or a run of transitions */
static void take(struct record *rec)
{
	struct item **tail = &rec->flight;

	if (rec->head->sql || rec->head->alone) {
		rec->flight = rec->head;
		rec->head = rec->head->next;
	} else {
		while (rec->head && rec->head->sql == NULL) {
			*tail = rec->head;
			tail = &rec->head->next;
			rec->head = rec->head->next;
		}
		*tail = NULL;
	}
	if (rec->head == NULL)
		rec->tail = NULL;
	if (rec->flight->sql || rec->flight->alone)
		rec->flight->next = NULL;
}

/* send_transitions - the group in flight as one statement over arrays, one per column */
static void send_transitions(struct record *rec)
{
	struct tgm_buf col[5];
	const char *p[5];
	char num[3][24];

	for (int c = 0; c < 5; c++)
		tgm_buf_init(&col[c]);
	for (struct item *it = rec->flight; it; it = it->next) {
		snprintf(num[0], sizeof(num[0]), "%lld", (long long)it->msg_id);
		snprintf(num[1], sizeof(num[1]), "%lld", (long long)it->tg_id);
		snprintf(num[2], sizeof(num[2]), "%lld", (long long)it->due_ms);
		tgm_pgarr_add(&col[0], num[0]);
		tgm_pgarr_add(&col[1], tgm_msg_status_name(it->status));
		tgm_pgarr_add(&col[2], it->detail);
		tgm_pgarr_add(&col[3], it->tg_id ? num[1] : NULL);
		tgm_pgarr_add(&col[4], num[2]);
	}
	for (int c = 0; c < 5; c++) {
		tgm_pgarr_end(&col[c]);
		p[c] = col[c].p;
	}
	tgm_pg_query_prepared(rec->pg, "record", transition_sql, 5, p, on_written, rec);
	for (int c = 0; c < 5; c++)
		tgm_buf_free(&col[c]);
}

/* flush - write the next group unless one is in flight or a retry waits */
static void flush(struct record *rec)
{
	if (rec->flight || rec->head == NULL || evtimer_pending(rec->ev_retry, NULL))
		return;
	take(rec);
	if (rec->flight->sql)
		tgm_pg_query(rec->pg, rec->flight->sql, rec->flight->n,
			     (const char *const *)rec->flight->params, on_written, rec);
	else
		send_transitions(rec);
}

struct record *record_new(struct event_base *base, const struct tgm_config *cfg,
			  record_commit_fn fn, void *arg)
{
	struct record *rec = tgm_xcalloc(1, sizeof(*rec));

	rec->on_commit = fn;
	rec->arg = arg;
	rec->pg = tgm_dbconn_async(base, cfg, "senderd-record", TGM_DBCONN_POOLED);
	rec->ev_retry = evtimer_new(base, on_retry, rec);
	return rec;
}

void record_free(struct record *rec)
{
	if (rec == NULL)
		return;
	event_free(rec->ev_retry);
	tgm_pg_free(rec->pg); /* a group in flight comes back through on_written (error) */
	for (struct item *it = rec->flight; it;) {
		struct item *next = it->next;
		item_free(it);
		it = next;
	}
	rec->flight = NULL;
	while (rec->head) {
		struct item *it = rec->head;

		rec->head = it->next;
		item_free(it);
	}
	free(rec);
}
