/*
 * claim.c - a lane's claims of due messages in PostgreSQL (FOR UPDATE SKIP LOCKED,
 * priority then age, never a message whose chat still has an earlier one pending), and
 * the claim groups: the lanes waiting on one of the claim connections go together, one
 * statement claims for them all, one starts them all (start.c). What happened is told
 * to the lane through lane_*; lane.c alone changes its state. A claim whose connection
 * broke before its answer may have claimed rows the lane never heard of: they are
 * resolved as a start resolves a previous owner's, once the lane is idle (LANE_ORPHANS,
 * lane.h; start_orphans).
 */
#include "senderd/claim.h"
#include "senderd/lane.h"
#include "senderd/record.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* The claims of every lane waiting on a connection, in one statement (a claim group):
 * $1 the bots, $2 how many rows each asks for, $3 where each one's last walk chat by
 * chat stopped (column 14 says where this one's did, if it walked). Per bot, the head of
 * each chat's line among the due messages: later ones wait their turn (only behind
 * earlier ones of their priority or a higher one: a reply at high is not held behind a
 * campaign's bulk message to the same user); a message to a group that moved to a
 * supergroup goes to its new id. Column 0 is the bot's place in $1 (from 1). Each bot
 * gets a row at least, with a NULL id when nothing was claimed; when it got fewer than
 * asked, column 10 says in how many ms its next one falls due (scheduled, or a retry),
 * so the lane wakes then instead of waiting for the sweep, and column 13 whether due
 * rows were passed over (held behind their chat's open one, or locked), so that a
 * commit of the bot's transitions wakes the lane only then (LANE_HELD, lane.h). That
 * check is a scalar subquery: as EXISTS, the planner may hash every due row of every
 * bot once a claim; it reads the due index in its order (ORDER BY) to stop at the first
 * row passed over, where a bitmap scan read every open message of the bot first. Both
 * are worked out in a CTE of their own (MATERIALIZED) for those lanes alone: inlined,
 * they were worked out for every lane before the filter (a fifth of a claim of 64 lanes
 * asking for 18 each). The rows are the claimed ones (u) and one for each lane that got
 * none, never a join of the lanes to the claimed rows: estimated at a few, that join
 * was planned as a nested loop, every lane reading every row (40 ms of a claim of 64
 * lanes and 1,130 rows).
 * The candidates come from sql/functions/sd_due.sql (its comment says why a function: the
 * plan must not depend on statistics of an empty queue); the lookups are written to match
 * the partial indexes of 020_claim_indexes.sql (open messages of a chat; rows due later
 * than made) and 048_chats_by_text.sql (a moved group), so a claim's cost follows the
 * queue, not the history nor the bot's chats. A blocked chat is looked up by its key
 * (the chat's text as a number; an @username is never blocked): by its text, in 048's
 * index of blocked chats, a generic plan expected 40 rows and made each lookup a bitmap
 * scan (0.3 ms a claim of 128). One statement for the lanes
 * that came together (100 bots starting at once: their first claims) costs a fraction of
 * one statement each, queued one behind the other on the connection.
 *
 * Its COMMIT waits for the disk (and a synchronous replica). Without that wait the
 * accept-to-sent p50 fell from 4.9 to 3.3 ms, but a claim lost in a crash or a failover
 * puts its messages back in 'queued' while the lane holds their outcome: the record sent
 * again on the new primary changes nothing (it updates only rows in 'sending'), and the
 * message goes twice (test_failover caught it). */
static const char claim_sql[] =
	"WITH r AS (SELECT * FROM unnest($1::bigint[], $2::int[]) WITH ORDINALITY"
	"  AS r(bot_id, n, k)),"
	" c AS (SELECT * FROM sd_due($1, $2, $3)),"
	" u AS (UPDATE messages m SET status = 'sending', attempts = m.attempts + 1,"
	"  send_started_at = NULL, updated_at = now(),"
	"  chat = coalesce(h.migrated_to::text, m.chat), params = CASE WHEN h.migrated_to"
	"  IS NULL THEN m.params ELSE jsonb_set(m.params, '{chat_id}', to_jsonb(h.migrated_to)) END"
	"  FROM c LEFT JOIN chats h ON h.bot_id = c.bot_id AND h.migrated_to IS NOT NULL"
	"  AND h.chat_id::text = c.chat WHERE m.id = c.id"
	"  RETURNING c.k, m.id, m.bot_id, m.chat, m.method, m.params, m.priority, m.attempts,"
	"  m.expires_at, m.botapi),"
	" ev AS (INSERT INTO message_events (message_id, status) SELECT id, 'sending' FROM u),"
	" got AS (SELECT k, count(*) AS n FROM u GROUP BY k),"
	" cur AS MATERIALIZED (SELECT k, chat FROM c WHERE id IS NULL),"
	" nx AS MATERIALIZED (SELECT r.k,"
	"  (SELECT (extract(epoch FROM min(n.not_before) - now()) * 1000)::bigint"
	"   FROM messages n WHERE n.bot_id = r.bot_id AND n.status IN ('queued', 'retrying')"
	"   AND n.not_before > now() AND n.not_before > n.created_at) AS ms,"
	"  (SELECT true FROM messages n WHERE n.bot_id = r.bot_id"
	"   AND n.status IN ('queued', 'retrying') AND n.not_before <= now()"
	"   AND n.id NOT IN (SELECT id FROM u) ORDER BY n.priority, n.id LIMIT 1) AS held"
	"  FROM r LEFT JOIN got ON got.k = r.k WHERE coalesce(got.n, 0) < r.n)"
	" SELECT u.k, u.id, u.chat, u.method, u.params::text, u.priority, u.attempts,"
	"  u.expires_at IS NOT NULL AND u.expires_at <= now(),"
	"  (SELECT h.blocked_reason FROM chats h WHERE h.bot_id = u.bot_id"
	"   AND h.chat_id = CASE WHEN u.chat ~ '^-?[0-9]{1,18}$' THEN u.chat::bigint END"
	"   AND h.blocked_at IS NOT NULL),"
	"  (extract(epoch FROM u.expires_at - now()) * 1000)::bigint, nx.ms, u.botapi,"
	"  CASE WHEN u.botapi THEN EXISTS (SELECT 1 FROM botapi_files f"
	"   WHERE f.message_id = u.id) ELSE false END, coalesce(nx.held, false), cur.chat"
	" FROM u LEFT JOIN nx ON nx.k = u.k LEFT JOIN cur ON cur.k = u.k"
	" UNION ALL"
	" SELECT r.k, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, nx.ms, NULL, NULL,"
	"  coalesce(nx.held, false), cur.chat"
	" FROM r LEFT JOIN nx ON nx.k = r.k LEFT JOIN cur ON cur.k = r.k"
	" WHERE NOT EXISTS (SELECT 1 FROM got WHERE got.k = r.k)";

/* the columns of claim_sql's rows */
enum {
	C_K,
	C_ID,
	C_CHAT,
	C_METHOD,
	C_PARAMS,
	C_PRIO,
	C_ATTEMPTS,
	C_EXPIRED,
	C_BLOCKED,
	C_LEFT,
	C_NEXT,
	C_BOTAPI,
	C_FILES,
	C_HELD,
	C_WALKED
};

/* take_row - one claimed row: expired and blocked ones end here; the rest, returned,
 * wait in the queue */
static struct pending *take_row(struct lane *l, PGresult *res, int i)
{
	struct pending *p = tgm_xcalloc(1, sizeof(*p));
	struct record *rec = l->sd->record;

	tgm_parse_int64(PQgetvalue(res, i, C_ID), &p->id);
	p->chat = tgm_xstrdup(PQgetvalue(res, i, C_CHAT));
	p->method = tgm_xstrdup(PQgetvalue(res, i, C_METHOD));
	p->params = tgm_xstrdup(PQgetvalue(res, i, C_PARAMS));
	p->priority = (int)strtol(PQgetvalue(res, i, C_PRIO), NULL, 10);
	p->attempts = (int)strtol(PQgetvalue(res, i, C_ATTEMPTS), NULL, 10);
	p->botapi = PQgetvalue(res, i, C_BOTAPI)[0] == 't';
	p->files = PQgetvalue(res, i, C_FILES)[0] == 't';
	if (PQgetvalue(res, i, C_EXPIRED)[0] == 't') {
		record_add(rec, p->id, l->bot_id, TGM_MSG_EXPIRED,
			   "ttl passed before it could be sent", 0, 0);
		pending_free(p);
		return NULL;
	} else if (!PQgetisnull(res, i, C_BLOCKED)) {
		char detail[300];

		snprintf(detail, sizeof(detail), "chat blocked: %s", PQgetvalue(res, i, C_BLOCKED));
		record_add(rec, p->id, l->bot_id, TGM_MSG_FAILED, detail, 0, 0);
		pending_free(p);
		return NULL;
	}
	int64_t left;

	if (!PQgetisnull(res, i, C_LEFT) && tgm_parse_int64(PQgetvalue(res, i, C_LEFT), &left))
		p->expires_at = tgm_mono_ms() + left;
	return p;
}

/* lane_rows - what a group's statement brought one lane */
struct lane_rows {
	struct pending **ps;
	int n, kept; /* rows claimed; of them, kept to send (expired and blocked ones end) */
	bool due, held;
	int64_t due_ms;
	const char *walked; /* where its walk chat by chat stopped, if it walked */
};

/* claimed - each lane of the batch takes its rows (one pass over them), and hears what
 * the statement said of its next due row and of rows left behind */
static void claimed(struct claim_batch *b, PGresult *res)
{
	struct lane_rows *lr = tgm_xcalloc((size_t)b->n, sizeof(*lr));

	for (int i = 0; i < b->n; i++)
		lr[i].ps = tgm_xcalloc((size_t)b->lanes[i]->claim_asked + 1, sizeof(*lr[i].ps));
	for (int r = 0; r < PQntuples(res); r++) {
		int i = (int)strtol(PQgetvalue(res, r, C_K), NULL, 10) - 1;
		struct lane_rows *x;

		if (i < 0 || i >= b->n)
			continue;
		x = &lr[i];
		if (!x->due && !PQgetisnull(res, r, C_NEXT))
			x->due = tgm_parse_int64(PQgetvalue(res, r, C_NEXT), &x->due_ms);
		x->held = x->held || PQgetvalue(res, r, C_HELD)[0] == 't';
		if (!PQgetisnull(res, r, C_WALKED))
			x->walked = PQgetvalue(res, r, C_WALKED);
		if (PQgetisnull(res, r, C_ID) || x->n >= b->lanes[i]->claim_asked)
			continue;
		x->n++;
		if ((x->ps[x->kept] = take_row(b->lanes[i], res, r)) != NULL)
			x->kept++;
	}
	for (int i = 0; i < b->n; i++) {
		struct lane *l = b->lanes[i];

		log_debug("bot=%lld claimed %d of %d", (long long)l->bot_id, lr[i].n,
			  l->claim_asked);
		lane_claim_end(l, lr[i].n, lr[i].held, lr[i].walked);
		lane_enqueue_all(l, lr[i].ps, lr[i].kept);
		if (lr[i].due)
			lane_due_in(l, lr[i].due_ms);
		free(lr[i].ps);
	}
	free(lr);
}

/* on_claimed - a group's claims answered: each lane takes its rows and goes on, then the
 * lanes that came meanwhile claim together (the steps of a claim: lane_pump,
 * claim_more, group_send, on_claimed, claimed, take_row, lane_go_on) */
static void on_claimed(PGresult *res, const char *err, void *arg)
{
	struct claim_batch *b = arg;
	struct claim_group *g = b->g;

	if (err)
		log_warn("claim of %d bots failed%s: %s", b->n,
			 res ? "" : ", their rows are resolved once each lane is idle", err);
	else
		claimed(b, res);
	for (int i = 0; i < b->n; i++) {
		struct lane *l = b->lanes[i];

		if (err && res == NULL) /* the connection broke: it may have claimed rows */
			lane_claim_lost(l);
		else if (err)
			lane_claim_end(l, -1, true, NULL); /* held or not: unknown */
		lane_go_on(l); /* may claim again: it waits for the next group */
	}
	free(b);
	g->busy = false;
	if (g->waiting)
		claim_group_kick(g);
}

/* group_send - one statement claims for every lane waiting on the group's connection */
static void group_send(struct claim_group *g)
{
	struct tgm_buf bots, wants, afters;
	struct claim_batch *b = claim_batch_take(g, &g->waiting, &g->tail, &bots);
	char num[24];
	const char *p[3];

	tgm_buf_init(&wants);
	tgm_buf_init(&afters);
	for (int i = 0; i < b->n; i++) {
		snprintf(num, sizeof(num), "%d", b->lanes[i]->claim_asked);
		tgm_pgarr_add(&wants, num);
		tgm_pgarr_add(&afters, b->lanes[i]->walked);
	}
	tgm_pgarr_end(&wants);
	tgm_pgarr_end(&afters);
	p[0] = bots.p;
	p[1] = wants.p;
	p[2] = afters.p;
	g->busy = true;
	tgm_pg_query_prepared(g->sd->lane_pgs[g->pgi], "claim", claim_sql, 3, p, on_claimed, b);
	tgm_buf_free(&bots);
	tgm_buf_free(&wants);
	tgm_buf_free(&afters);
}

/* on_group - the group's kick: a statement for the lanes waiting to claim, and one for
 * those waiting to start, unless one of that kind is in flight */
static void on_group(evutil_socket_t fd, short what, void *arg)
{
	struct claim_group *g = arg;

	if (!g->start_busy && g->starting)
		start_send(g);
	if (!g->busy && g->waiting)
		group_send(g);
}

void claim_group_kick(struct claim_group *g)
{
	event_active(g->ev, EV_TIMEOUT, 0);
}

struct claim_batch *claim_batch_take(struct claim_group *g, struct lane **head, struct lane ***tail,
				     struct tgm_buf *bots)
{
	struct claim_batch *b = tgm_xcalloc(1, sizeof(*b));
	char num[24];

	b->g = g;
	tgm_buf_init(bots);
	while (*head && b->n < CLAIM_GROUP_MAX) {
		struct lane *l = *head;

		*head = l->cnext;
		b->lanes[b->n++] = l;
		snprintf(num, sizeof(num), "%lld", (long long)l->bot_id);
		tgm_pgarr_add(bots, num);
	}
	if (*head == NULL)
		*tail = head;
	tgm_pgarr_end(bots);
	return b;
}

void claim_more(struct lane *l)
{
	struct claim_group *g;

	if (lane_claim_begin(l) <= 0)
		return;
	g = &l->sd->claim_groups[l->pgi];
	l->cnext = NULL;
	*g->tail = l;
	g->tail = &l->cnext;
	if (!g->busy)
		claim_group_kick(g);
}

void claim_start(struct senderd *sd)
{
	sd->claim_groups = tgm_xcalloc((size_t)sd->nlane_pgs, sizeof(*sd->claim_groups));
	for (int i = 0; i < sd->nlane_pgs; i++) {
		sd->claim_groups[i].sd = sd;
		sd->claim_groups[i].pgi = i;
		sd->claim_groups[i].tail = &sd->claim_groups[i].waiting;
		sd->claim_groups[i].stail = &sd->claim_groups[i].starting;
		sd->claim_groups[i].ev = event_new(sd->ctx->base, -1, 0, on_group,
						   &sd->claim_groups[i]);
	}
}

void claim_stop(struct senderd *sd)
{
	if (sd->claim_groups == NULL)
		return;
	for (int i = 0; i < sd->nlane_pgs; i++)
		event_free(sd->claim_groups[i].ev);
	free(sd->claim_groups);
	sd->claim_groups = NULL;
}
