/*
 * accept.c - group commit of accepted messages (see accept.h).
 *
 * Submissions wait in a FIFO. Whenever one of the accept connections is idle and no
 * other group is inserting, it takes whole submissions from the head, up to [gatewayd]
 * accept_batch messages, and inserts them with one INSERT ... SELECT FROM unnest(arrays)
 * statement. The row itself records the acceptance: no event row is written for it,
 * and the readers show a first transition 'queued' at created_at (see status.c). While
 * a group is in flight new submissions gather, so the group size follows the load: one
 * row when idle, hundreds when busy. (A "group" here is one commit; messages.c's
 * "batch" is one POST /v1/messages/batch request.)
 *
 * With two or more connections the groups overlap: each one is its own transaction
 * (BEGIN, the INSERT, COMMIT), and the next group inserts on another connection while
 * the last one's COMMIT waits for its WAL flush. Two rules keep the order of
 * acceptance: a group's INSERT starts only once the previous group's INSERT has
 * answered (so its ids, from the identity sequence in request order, all come after
 * the previous group's), and its COMMIT is sent only once the previous group's COMMIT
 * has answered (so a reader never sees a later message to a chat without the earlier
 * one). A group's callers hear back only after its own COMMIT; a COMMIT that ran on a
 * remade connection (tgm_pg_session changed: the server rolled the transaction back
 * when the old one dropped) is a failure. With one connection a group is one
 * statement in its own implicit transaction, as before.
 *
 * An idempotency key is claimed first in message_keys (messages is partitioned by id,
 * so it cannot hold a unique key on it): a message whose key was already there does
 * not insert (a key of a group not yet committed makes the INSERT wait for that
 * group's COMMIT, which never waits for a later group). Rows that did not insert are
 * either an idempotency key seen before (looked up by a second statement, after the
 * COMMIT, to tell a replay from a conflict) or a bot that is not the tenant's (or, for
 * a message naming none, no bot of the tenant may reach its chat). A message naming no
 * bot gets one from gatewayd's memory when the group is taken (choice.c; its chat's
 * bots looked up first when memory does not know them, lookup.c), and is inserted as
 * if it named it; where memory cannot tell, the statement chooses the bot itself
 * (CHOOSE_CTES), so that choice rides on the group, and it answers with the chat's bots
 * for memory to learn. A message whose bot, chosen in memory, was deleted meanwhile
 * goes again with the next group, its bot chosen by the statement (its submission
 * answered once it has its outcome, the others of it keeping theirs). The statement
 * also checks the API key again, so a key revoked while its request was on the way
 * adds nothing. The group's bots are checked in one scan too (gbots). It is prepared
 * once per connection with a generic plan: planning it took about as long as running it
 * for 30 rows.
 */
#include "gatewayd/accept.h"
#include "gatewayd/choice.h"
#include "gatewayd/lookup.h"
#include "gatewayd/gatewayd.h"
#include "common/buf.h"
#include "common/dbconn.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define NCOLS 14

struct submission {
	struct gw_accept *a;
	struct submission *next;
	struct gw_msg **msgs;
	int n;
	gw_accept_cb cb;
	void *arg;
};

/* group - the submissions one transaction commits together */
struct group {
	struct gw_accept *a;
	struct accept_conn *conn;
	struct submission *head; /* the submissions of this group, in order */
	struct gw_msg **msgs;    /* all their messages, flattened: ord = index */
	bool *ok;                /* inserted: accepted once the COMMIT answers */
	int n;
	bool own_tx;           /* BEGIN ... COMMIT (more than one connection) */
	bool committing;       /* its COMMIT is sent */
	unsigned long session; /* the connection's session that ran the INSERT */
	struct group *next;    /* in the commit queue */
};

struct accept_conn {
	struct tgm_pg *pg;
	bool busy;
};

struct gw_accept {
	struct gatewayd *gw;
	struct accept_conn *conns;
	int nconns;
	struct submission *head, *tail;
	int waiting, inflight;
	bool closing;
	struct group *inserting;      /* the group whose INSERT is in flight, if any */
	struct group *chead, **ctail; /* inserted groups waiting for COMMIT, in order */
	struct gw_lookup *lookup;     /* submissions whose chats' bots memory must learn */
};

/* The bot for each message that names none, chosen for the whole group at once: the
 * candidates are the tenant's bots that may reach the chat (know it, were given messages
 * for it, or the tenant's only bot); among them the enabled one first, then the one whose
 * queue drains soonest at its rate, then the one with the most of its rate free (its
 * limit minus its sends of the last 10 s). Every candidate bot of the group is read once:
 * its row, then its depth and recent sends from the counters of sql/009_counters.sql, each
 * in one scan over all of them (bot_id = ANY), so a message costs a few index lookups
 * whatever the number of bots and the depth of their queues, and nothing when it names its
 * bot. (A lookup of the bot row per candidate was planned as a scan of bots each time when
 * a tenant has a few hundred bots: 90 scans of 200 rows for a group of 30.) */
/* clang-format off */
#define CHOOSE_CTES \
	" cand0 AS MATERIALIZED (SELECT i.ord, i.tenant_id, x.bot_id FROM input i" \
	"  CROSS JOIN LATERAL " GW_CHOICE_REACH_SQL " x" \
	"  WHERE i.named_bot IS NULL)," \
	" cbots AS MATERIALIZED (SELECT b.id, b.tenant_id, b.enabled," \
	"  " GW_CHOICE_LIMIT_SQL("b") " AS limit_ FROM bots b" \
	"  WHERE b.id = ANY (ARRAY(SELECT DISTINCT c.bot_id FROM cand0 c)) AND b.deleted_at IS NULL)," \
	" cand AS MATERIALIZED (SELECT c.ord, b.id, b.enabled, b.limit_ FROM cand0 c" \
	"  JOIN cbots b ON b.id = c.bot_id AND b.tenant_id = c.tenant_id)," \
	" cdepth AS MATERIALIZED (SELECT q.bot_id, sum(q.n)::float8 AS n FROM bot_status_counts q" \
	"  WHERE q.bot_id = ANY (ARRAY(SELECT DISTINCT c.id FROM cand c))" \
	"  AND " GW_CHOICE_DEPTH_WHERE " GROUP BY q.bot_id)," \
	" crecent AS MATERIALIZED (SELECT s.bot_id, sum(s.n)::float8 / 10 AS n" \
	"  FROM bot_done_seconds s WHERE s.bot_id = ANY (ARRAY(SELECT DISTINCT c.id FROM cand c))" \
	"  AND " GW_CHOICE_RECENT_WHERE " GROUP BY s.bot_id)," \
	" pick AS (SELECT DISTINCT ON (c.ord) c.ord, c.id FROM cand c" \
	"  LEFT JOIN cdepth d ON d.bot_id = c.id LEFT JOIN crecent r ON r.bot_id = c.id" \
	"  ORDER BY c.ord, c.enabled DESC, coalesce(d.n, 0) / c.limit_," \
	"   c.limit_ - coalesce(r.n, 0) DESC, c.id)," \
	" chosen AS MATERIALIZED (SELECT i.*, coalesce(i.named_bot, p.id," \
	"  (SELECT min(o.id) FROM bots o WHERE o.tenant_id = i.tenant_id AND o.deleted_at IS NULL" \
	"   HAVING count(*) = 1)) AS bot_id FROM input i LEFT JOIN pick p ON p.ord = i.ord),"
/* clang-format on */

/* A group whose every message names its bot skips the choice: its own statement, the
 * same but for CHOOSE_CTES (their executor start was about a tenth of the backend's CPU
 * per group, for nothing). */
#define NAMED_CTES " chosen AS MATERIALIZED (SELECT i.*, i.named_bot AS bot_id FROM input i),"

/* clang-format off */
#define INSERT_INPUT \
	"WITH input AS (" \
	"  SELECT * FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::text[], $5::text[]," \
	"   $6::jsonb[], $7::smallint[], $8::timestamptz[], $9::int[], $10::text[], $11::text[]," \
	"   $12::text[], $13::jsonb[], $14::bigint[]) AS t(ord, tenant_id, named_bot, chat, method," \
	"   params, priority, send_at, ttl, idem, req_hash, callback_url, metadata, key_id)),"

#define INSERT_REST \
	" gbots AS MATERIALIZED (SELECT b.id, b.tenant_id FROM bots b" \
	"  WHERE b.id = ANY (ARRAY(SELECT DISTINCT c.bot_id FROM chosen c)) AND b.deleted_at IS NULL)," \
	" numbered AS (SELECT CASE WHEN s.bot_ok AND s.key_ok" \
	"   THEN nextval('messages_id_seq'::regclass) END AS id, s.*" \
	"  FROM (SELECT i.*, b.id IS NOT NULL AS bot_ok," \
	"   k.id IS NOT NULL OR i.key_id = 0 AS key_ok" /* key 0: a dashboard session */ \
	"   FROM chosen i LEFT JOIN gbots b ON b.id = i.bot_id AND b.tenant_id = i.tenant_id" \
	"   LEFT JOIN api_keys k ON k.id = i.key_id" \
	"   AND k.revoked_at IS NULL ORDER BY i.ord) s)," \
	" keys AS (INSERT INTO message_keys (tenant_id, idempotency_key, message_id, request_hash)" \
	"  SELECT tenant_id, idem, id, decode(req_hash, 'hex') FROM numbered" \
	"  WHERE id IS NOT NULL AND idem IS NOT NULL ORDER BY id" \
	"  ON CONFLICT DO NOTHING RETURNING message_id)," \
	" ins AS (INSERT INTO messages (id, tenant_id, bot_id, chat, method, params, priority," \
	"   not_before, expires_at, idempotency_key, request_hash, callback_url, metadata)" \
	"  OVERRIDING SYSTEM VALUE" \
	"  SELECT id, tenant_id, bot_id, chat, method, params, priority," \
	"   coalesce(send_at, now())," \
	"   CASE WHEN ttl > 0 THEN coalesce(send_at, now()) + make_interval(secs => ttl) END," \
	"   idem, decode(req_hash, 'hex'), callback_url, metadata FROM numbered" \
	"  WHERE id IS NOT NULL AND (idem IS NULL OR id IN (SELECT message_id FROM keys))" \
	"  ORDER BY id RETURNING id)" \
	" SELECT n.ord, n.id, CASE WHEN n.id IN (SELECT ins.id FROM ins) THEN 'ok'" \
	"  WHEN NOT n.key_ok THEN 'key' WHEN NOT n.bot_ok AND n.named_bot IS NULL THEN 'chat'" \
	"  WHEN NOT n.bot_ok THEN 'bot' ELSE 'dup' END, n.bot_id,"

/* the last column: the bots that may reach the chat of a message the statement chose
 * for (choice.c remembers them) */
#define CHOOSE_CANDS \
	" (SELECT array_agg(DISTINCT c.id ORDER BY c.id) FROM cand c WHERE c.ord = n.ord)" \
	" FROM numbered n"
#define NAMED_CANDS " NULL FROM numbered n"

static const char insert_sql[] = INSERT_INPUT CHOOSE_CTES INSERT_REST CHOOSE_CANDS;
static const char insert_named_sql[] = INSERT_INPUT NAMED_CTES INSERT_REST NAMED_CANDS;
/* clang-format on */

static const char replay_sql[] =
	"SELECT k.ord, m.id, encode(mk.request_hash, 'hex'), m.status, m.bot_id"
	" FROM unnest($1::int[], $2::bigint[], $3::text[]) AS k(ord, tenant_id, idem)"
	" JOIN message_keys mk ON mk.tenant_id = k.tenant_id AND mk.idempotency_key = k.idem"
	" JOIN messages m ON m.id = mk.message_id";

static void accept_pump(struct gw_accept *a);
static void on_looked_up(void *arg);

struct gw_accept *gw_accept_new(struct gatewayd *gw)
{
	struct gw_accept *a = tgm_xcalloc(1, sizeof(*a));
	const struct tgm_config *cfg = gw->ctx->cfg;

	a->gw = gw;
	a->ctail = &a->chead;
	a->nconns = cfg->gatewayd.accept_connections;
	a->lookup = gw_lookup_new(gw, on_looked_up);
	a->conns = tgm_xcalloc((size_t)a->nconns, sizeof(*a->conns));
	for (int i = 0; i < a->nconns; i++)
		a->conns[i].pg = tgm_dbconn_async(gw->ctx->base, cfg, "gatewayd-accept",
						  TGM_DBCONN_POOLED);
	return a;
}

static void enqueue(struct gw_accept *a, struct submission *s);

/* rechoose - s holds messages to go again (GW_RECHOOSE), their bot now chosen by the
 * statement (memory could choose the deleted bot again until its next read) */
static bool rechoose(struct submission *s)
{
	bool again = false;

	for (int i = 0; i < s->n; i++) {
		struct gw_msg *m = s->msgs[i];

		if (m->outcome != GW_RECHOOSE)
			continue;
		m->outcome = GW_PENDING;
		m->bot_id = 0;
		m->chosen = m->counted = false;
		m->db_choice = true;
		again = true;
	}
	return again;
}

/* finish - every message of the group has its outcome: the next group goes to the
 * connection first (PostgreSQL inserts it while the answers of this one are written),
 * then answer, ring, free */
static void finish(struct group *b)
{
	struct gw_accept *a = b->a;
	int64_t last_bot = 0;

	b->conn->busy = false;
	a->inflight--;
	accept_pump(a);
	for (int i = 0; i < b->n; i++) {
		struct gw_msg *m = b->msgs[i];

		if (m->outcome == GW_PENDING || (m->outcome == GW_RECHOOSE && a->closing))
			m->outcome = GW_FAILED;
		if (m->outcome == GW_ACCEPTED && m->bot_id != last_bot)
			gw_ring(a->gw, last_bot = m->bot_id, false);
		if (m->counted && m->outcome != GW_ACCEPTED)
			gw_choice_count(a->gw->choice, m->bot_id, -1);
	}
	while (b->head) {
		struct submission *s = b->head;

		b->head = s->next;
		if (rechoose(s)) {
			log_info("accept: a bot chosen in memory was deleted meanwhile: the"
				 " database chooses again");
			s->next = NULL;
			enqueue(a, s);
			continue;
		}
		s->cb(s->msgs, s->n, s->arg);
		free(s);
	}
	free(b->msgs);
	free(b->ok);
	free(b);
}

/* on_replay - the idempotency keys already used: those messages are replays, the others go in */
static void on_replay(PGresult *res, const char *err, void *arg)
{
	struct group *b = arg;

	for (int i = 0; !err && i < PQntuples(res); i++) {
		int64_t ord = 0;
		struct gw_msg *m;

		tgm_parse_int64(PQgetvalue(res, i, 0), &ord);
		if (ord < 0 || ord >= b->n)
			continue;
		m = b->msgs[ord];
		if (m->counted) /* its bot is the first message's */
			gw_choice_count(b->a->gw->choice, m->bot_id, -1);
		m->counted = false;
		tgm_parse_int64(PQgetvalue(res, i, 1), &m->id);
		tgm_parse_int64(PQgetvalue(res, i, 4), &m->bot_id);
		tgm_msg_status_parse(PQgetvalue(res, i, 3), &m->status);
		m->outcome = strcmp(PQgetvalue(res, i, 2), m->req_hash) == 0 ? GW_REPLAYED
									     : GW_KEY_CONFLICT;
	}
	if (err)
		log_error("accept: replay lookup failed: %s", err);
	for (int i = 0; !err && i < b->n; i++) /* not inserted, no earlier use: the bot */
		if (b->msgs[i]->outcome == GW_PENDING)
			b->msgs[i]->outcome = GW_BOT_NOT_FOUND;
	finish(b);
}

/* look_up_replays - rows with an idempotency key that did not insert */
static void look_up_replays(struct group *b)
{
	struct tgm_buf ord, tenant, idem;
	const char *p[3];
	char num[24];
	int k = 0;

	tgm_buf_init(&ord), tgm_buf_init(&tenant), tgm_buf_init(&idem);
	for (int i = 0; i < b->n; i++) {
		struct gw_msg *m = b->msgs[i];

		if (m->outcome != GW_PENDING)
			continue;
		if (m->idem_key == NULL) {
			m->outcome = GW_BOT_NOT_FOUND;
			continue;
		}
		snprintf(num, sizeof(num), "%d", i);
		tgm_pgarr_add(&ord, num);
		snprintf(num, sizeof(num), "%lld", (long long)m->tenant_id);
		tgm_pgarr_add(&tenant, num);
		tgm_pgarr_add(&idem, m->idem_key);
		k++;
	}
	if (k == 0) {
		finish(b);
	} else {
		tgm_pgarr_end(&ord), tgm_pgarr_end(&tenant), tgm_pgarr_end(&idem);
		p[0] = ord.p, p[1] = tenant.p, p[2] = idem.p;
		tgm_pg_query(b->conn->pg, replay_sql, 3, p, on_replay, b);
	}
	tgm_buf_free(&ord), tgm_buf_free(&tenant), tgm_buf_free(&idem);
}

/* fail_all - the group's transaction did not commit: no message of it is accepted */
static void fail_all(struct group *b)
{
	for (int i = 0; i < b->n; i++)
		b->msgs[i]->outcome = GW_FAILED;
}

/* committed - the group's COMMIT answered (err NULL: its rows are durable): accept its
 * inserted messages, then tell replays from conflicts */
static void committed(struct group *b, const char *err)
{
	unsigned long accepted = 0;

	if (err) {
		log_error("accept: %d messages not committed: %s", b->n, err);
		fail_all(b);
		finish(b); /* nothing was acknowledged */
		return;
	}
	for (int i = 0; i < b->n; i++)
		if (b->ok[i]) {
			b->msgs[i]->outcome = GW_ACCEPTED;
			b->msgs[i]->status = TGM_MSG_QUEUED;
			accepted++;
		}
	b->a->gw->accepted += accepted;
	if (b->a->closing)
		finish(b);
	else
		look_up_replays(b);
}

static void commit_next(struct gw_accept *a);

/* on_commit - the head of the commit queue answered its COMMIT; the next one may go */
static void on_commit(PGresult *res, const char *err, void *arg)
{
	struct group *b = arg;
	struct gw_accept *a = b->a;

	a->chead = b->next;
	if (a->chead == NULL)
		a->ctail = &a->chead;
	if (!err && tgm_pg_session(b->conn->pg) != b->session)
		err = "the connection was remade before the COMMIT: rolled back";
	commit_next(a);
	committed(b, err);
}

/* commit_next - send the COMMIT of the first group waiting, once the one before it answered */
static void commit_next(struct gw_accept *a)
{
	struct group *b = a->chead;

	if (b == NULL || b->committing || a->closing)
		return;
	b->committing = true;
	tgm_pg_query(b->conn->pg, "COMMIT", 0, NULL, on_commit, b);
}

/* on_rollback - a failed group's transaction is closed: its callers hear of the failure */
static void on_rollback(PGresult *res, const char *err, void *arg)
{
	finish(arg);
}

/* on_begin - BEGIN answered. Its group is not named: on a lost connection the queries
 * fail together, the INSERT's callback (and the group's end) maybe first. A BEGIN that
 * failed alone leaves the INSERT to commit on its own, which acknowledges only rows
 * already durable. */
static void on_begin(PGresult *res, const char *err, void *arg)
{
	if (err)
		log_warn("accept: BEGIN failed: %s", err);
}

/* inserted - row i of res inserted m: its id and bot; its bot's queue counted, the
 * bots that may reach its chat remembered (choice.c) */
static void inserted(struct gw_accept *a, struct gw_msg *m, PGresult *res, int i)
{
	bool chosen_here = m->bot_id == 0; /* by the statement */

	tgm_parse_int64(PQgetvalue(res, i, 1), &m->id);
	tgm_parse_int64(PQgetvalue(res, i, 3), &m->bot_id);
	if (chosen_here && !PQgetisnull(res, i, 4))
		gw_choice_learn(a->gw->choice, m->tenant_id, m->chat, PQgetvalue(res, i, 4));
	else if (!m->chosen)
		gw_choice_reaches(a->gw->choice, m->tenant_id, m->chat, m->bot_id);
	if (!m->counted)
		gw_choice_count(a->gw->choice, m->bot_id, 1);
	m->counted = true;
}

/* on_insert - the group's INSERT answered: each message gets its id (accepted at the
 * COMMIT), or the group fails; the next group may insert now */
static void on_insert(PGresult *res, const char *err, void *arg)
{
	struct group *b = arg;
	struct gw_accept *a = b->a;

	a->inserting = NULL;
	for (int i = 0; !err && i < PQntuples(res); i++) {
		const char *why = PQgetvalue(res, i, 2);
		int64_t ord = 0;
		struct gw_msg *m;

		tgm_parse_int64(PQgetvalue(res, i, 0), &ord);
		if (ord < 0 || ord >= b->n)
			continue;
		m = b->msgs[ord];
		if (strcmp(why, "ok") == 0) {
			inserted(a, m, res, i);
			b->ok[ord] = true;
		} else if (strcmp(why, "bot") == 0 && m->chosen) {
			m->outcome = GW_RECHOOSE; /* deleted since memory read it */
			gw_choice_stale(a->gw->choice);
		} else if (strcmp(why, "key") == 0) {
			m->outcome =
				GW_KEY_REVOKED; /* revoked after the request was authenticated */
		} else if (strcmp(why, "bot") == 0) {
			m->outcome = GW_BOT_NOT_FOUND;
		} else if (strcmp(why, "chat") == 0) {
			m->outcome = GW_NO_BOT_FOR_CHAT;
		} /* "dup": an idempotency key seen before, looked up next */
	}
	if (!b->own_tx) { /* one statement: its answer is its COMMIT */
		committed(b, err);
	} else if (err) {
		log_error("accept: %d messages not committed: %s", b->n, err);
		fail_all(b);
		if (a->closing)
			finish(b);
		else
			tgm_pg_query(b->conn->pg, "ROLLBACK", 0, NULL, on_rollback, b);
	} else {
		b->session = tgm_pg_session(b->conn->pg);
		*a->ctail = b;
		a->ctail = &b->next;
		commit_next(a);
	}
	accept_pump(a);
}

/* add_row - one message's values to the column arrays */
static void add_row(struct tgm_buf *col, int ord, const struct gw_msg *m)
{
	char num[5][24];

	snprintf(num[4], sizeof(num[4]), "%lld", (long long)m->key_id);
	snprintf(num[0], sizeof(num[0]), "%d", ord);
	snprintf(num[1], sizeof(num[1]), "%lld", (long long)m->tenant_id);
	snprintf(num[2], sizeof(num[2]), "%lld", (long long)m->bot_id);
	snprintf(num[3], sizeof(num[3]), "%d", m->priority);
	tgm_pgarr_add(&col[0], num[0]);
	tgm_pgarr_add(&col[1], num[1]);
	tgm_pgarr_add(&col[2], m->bot_id ? num[2] : NULL); /* none: chosen in the statement */
	tgm_pgarr_add(&col[3], m->chat);
	tgm_pgarr_add(&col[4], m->method);
	tgm_pgarr_add(&col[5], m->params);
	tgm_pgarr_add(&col[6], num[3]);
	tgm_pgarr_add(&col[7], m->send_at);
	snprintf(num[0], sizeof(num[0]), "%d", m->ttl_seconds);
	tgm_pgarr_add(&col[8], num[0]);
	tgm_pgarr_add(&col[9], m->idem_key);
	tgm_pgarr_add(&col[10], m->idem_key ? m->req_hash : NULL);
	tgm_pgarr_add(&col[11], m->callback_url);
	tgm_pgarr_add(&col[12], m->metadata);
	tgm_pgarr_add(&col[13], num[4]);
}

/* all_named - every message of the group names its bot: no choice to make */
static bool all_named(const struct group *b)
{
	for (int i = 0; i < b->n; i++)
		if (b->msgs[i]->bot_id == 0)
			return false;
	return true;
}

/* send_group - the group's messages as one INSERT over arrays, one per column */
static void send_group(struct gw_accept *a, struct group *b)
{
	struct tgm_buf col[NCOLS];
	const char *p[NCOLS];

	for (int c = 0; c < NCOLS; c++)
		tgm_buf_init(&col[c]);
	for (int i = 0; i < b->n; i++)
		add_row(col, i, b->msgs[i]);
	for (int c = 0; c < NCOLS; c++) {
		tgm_pgarr_end(&col[c]);
		p[c] = col[c].p;
	}
	if (b->own_tx)
		tgm_pg_query(b->conn->pg, "BEGIN", 0, NULL, on_begin, NULL);
	if (all_named(b))
		tgm_pg_query_prepared(b->conn->pg, "tgm_accept_named", insert_named_sql, NCOLS, p,
				      on_insert, b);
	else
		tgm_pg_query_prepared(b->conn->pg, "tgm_accept", insert_sql, NCOLS, p, on_insert,
				      b);
	for (int c = 0; c < NCOLS; c++)
		tgm_buf_free(&col[c]);
}

/* choose - the bot for m, which names none, if memory can tell (else the statement
 * chooses); counted in its queue at once, so the next message sees it */
static void choose(struct gw_accept *a, struct gw_msg *m)
{
	m->bot_id = gw_choice_pick(a->gw->choice, m->tenant_id, m->chat);
	m->chosen = m->counted = m->bot_id != 0;
}

/* pending_of - the messages of s still to insert (all, but for one that goes again) */
static int pending_of(const struct submission *s)
{
	int n = 0;

	for (int i = 0; i < s->n; i++)
		n += s->msgs[i]->outcome == GW_PENDING;
	return n;
}

/* take_group - whole submissions from the queue, up to accept_batch messages */
static struct group *take_group(struct gw_accept *a, struct accept_conn *conn)
{
	struct group *b = tgm_xcalloc(1, sizeof(*b));
	struct submission **tail = &b->head;
	int limit = a->gw->ctx->cfg->gatewayd.accept_batch, k = 0;

	b->a = a;
	b->conn = conn;
	b->own_tx = a->nconns > 1;
	while (a->head && (b->n == 0 || b->n + pending_of(a->head) <= limit)) {
		struct submission *s = a->head;

		a->head = s->next;
		s->next = NULL;
		*tail = s;
		tail = &s->next;
		b->n += pending_of(s);
		a->waiting--;
	}
	if (a->head == NULL)
		a->tail = NULL;
	b->msgs = tgm_xcalloc((size_t)b->n, sizeof(*b->msgs));
	b->ok = tgm_xcalloc((size_t)b->n, sizeof(*b->ok));
	for (struct submission *s = b->head; s; s = s->next)
		for (int i = 0; i < s->n; i++)
			if (s->msgs[i]->outcome == GW_PENDING) /* not one that went before */
				b->msgs[k++] = s->msgs[i];
	for (int i = 0; i < b->n; i++) /* the bots memory can choose (choice.c) */
		if (b->msgs[i]->bot_id == 0 && !b->msgs[i]->db_choice)
			choose(a, b->msgs[i]);
	return b;
}

/* accept_pump - the waiting submissions to an idle accept connection, unless a group is
 * inserting (the next one waits for its ids) */
static void accept_pump(struct gw_accept *a)
{
	if (a->closing)
		return;
	for (int i = 0; i < a->nconns && a->head && a->inserting == NULL; i++) {
		struct accept_conn *c = &a->conns[i];

		if (c->busy)
			continue;
		c->busy = true;
		a->inflight++;
		a->inserting = take_group(a, c);
		send_group(a, a->inserting);
	}
}

/* enqueue - the submission to the queue of the next group */
static void enqueue(struct gw_accept *a, struct submission *s)
{
	if (a->tail)
		a->tail->next = s;
	else
		a->head = s;
	a->tail = s;
	a->waiting++;
	accept_pump(a);
}

/* on_looked_up - the submission's chats' bots are known now: it queues for its group */
static void on_looked_up(void *arg)
{
	struct submission *s = arg;

	enqueue(s->a, s);
}

void gw_accept_submit(struct gw_accept *a, struct gw_msg **msgs, int n, gw_accept_cb cb, void *arg)
{
	struct submission *s = tgm_xcalloc(1, sizeof(*s));

	s->a = a;
	s->msgs = msgs;
	s->n = n;
	s->cb = cb;
	s->arg = arg;
	for (int i = 0; i < n; i++)
		msgs[i]->outcome = GW_PENDING;
	if (!a->closing && gw_lookup_need(a->gw, msgs, n))
		gw_lookup_add(a->lookup, msgs, n, s);
	else
		enqueue(a, s);
}

void gw_accept_flush(struct gw_accept *a)
{
	accept_pump(a);
}

int gw_accept_busy(const struct gw_accept *a)
{
	return a->waiting + a->inflight + gw_lookup_busy(a->lookup);
}

void gw_accept_free(struct gw_accept *a)
{
	if (a == NULL)
		return;
	a->closing = true;
	gw_lookup_free(a->lookup); /* its submissions back to the queue, failed below */
	for (int i = 0; i < a->nconns; i++)
		tgm_pg_free(a->conns[i].pg); /* in-flight groups finish as FAILED */
	while (a->chead) { /* inserted, their COMMIT not sent: rolled back by the server */
		struct group *b = a->chead;

		a->chead = b->next;
		fail_all(b);
		finish(b);
	}
	while (a->head) {
		struct submission *s = a->head;

		a->head = s->next;
		for (int i = 0; i < s->n; i++)
			s->msgs[i]->outcome = GW_FAILED;
		s->cb(s->msgs, s->n, s->arg);
		free(s);
	}
	free(a->conns);
	free(a);
}
