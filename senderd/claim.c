/*
 * claim.c - a lane's traffic with the queue in PostgreSQL: loading its bot (token,
 * limits), resolving what a previous owner left in 'sending', claiming due messages
 * (FOR UPDATE SKIP LOCKED, priority then age, never a message whose chat still has
 * an earlier one pending). What happened is told to the lane through lane_*; lane.c
 * alone changes its state.
 *
 * What a previous owner left in 'sending' may or may not have reached Telegram; it is
 * treated like any send with an unknown outcome: [senderd] ambiguous decides (retry:
 * send again, a possible duplicate; fail: mark it failed, but only where the send
 * had started (send_started_at): a claimed row that never left goes again). A claim
 * whose connection broke before its answer may have claimed rows the lane never heard
 * of: they are resolved the same way once the lane is idle (LANE_ORPHANS, lane.h).
 */
#include "senderd/lane.h"
#include "senderd/record.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

static const char load_sql[] =
	"SELECT token_sealed, telegram_id, enabled,"
	" ((s->>'per_second')::int), ((s->>'chat_per_second')::int),"
	" ((s->>'group_per_minute')::int), ((s->>'paid_broadcast')::boolean)"
	" FROM bots, LATERAL (SELECT coalesce((SELECT jsonb_object_agg(key, value)"
	"  FROM bot_setting_defaults), '{}') || settings AS s) x"
	" WHERE id = $1";

static const char recover_sql[] =
	"WITH r AS (UPDATE messages SET status = CASE WHEN $2 = 'fail'"
	"  AND send_started_at IS NOT NULL THEN 'failed' ELSE 'retrying' END,"
	"  not_before = now(), updated_at = now(),"
	"  last_error = $3 WHERE bot_id = $1 AND status = 'sending' RETURNING id, status)"
	" INSERT INTO message_events (message_id, status, detail) SELECT id, status, $3 FROM r";

#define RECOVER_DETAIL "ambiguous: the previous sender stopped during the send"
#define ORPHAN_DETAIL "claimed when the database connection broke: queued again"

/* the head of each chat's line among the due messages: later ones wait their turn (only
 * behind earlier ones of their priority or a higher one: a reply at high is not held
 * behind a campaign's bulk message to the same user); a message to a group that moved
 * to a supergroup goes to its new id. When fewer than asked are due, the last column
 * says in how many ms the next one falls due (scheduled, or a retry), so the lane wakes
 * then instead of waiting for the sweep;
 * the row then always comes, with a NULL id when nothing was claimed. Both lookups
 * are written to match the partial indexes of 020_claim_indexes.sql (open messages of a
 * chat; rows due later than made), so a claim's cost follows the queue, not the history.
 * The chat's check is a scalar subquery, which PostgreSQL runs per candidate with its
 * chat and id as the index's keys: as a bare NOT EXISTS it may become an anti-join, and
 * with statistics taken while the queue was empty (rows estimated: 1) the planner made it
 * a nested loop over the bot's whole queue for every candidate (one claim over 50,000
 * queued took 215 s; now 3.6 ms, or 0.3 s until the statistics catch up). */
static const char claim_sql[] =
	"WITH c AS (SELECT m.id, m.chat FROM messages m"
	"  WHERE m.bot_id = $1 AND m.status IN ('queued', 'retrying') AND m.not_before <= now()"
	"  AND (SELECT NOT EXISTS (SELECT 1 FROM messages e WHERE e.bot_id = m.bot_id"
	"   AND e.chat = m.chat AND e.id < m.id AND e.status IN ('queued', 'retrying', 'sending')"
	"   AND (e.status <> 'queued' OR e.not_before <= now()) AND e.priority <= m.priority))"
	"  ORDER BY m.priority, m.id LIMIT $2 FOR UPDATE SKIP LOCKED),"
	" u AS (UPDATE messages m SET status = 'sending', attempts = m.attempts + 1,"
	"  send_started_at = NULL, updated_at = now(),"
	"  chat = coalesce(h.migrated_to::text, m.chat), params = CASE WHEN h.migrated_to"
	"  IS NULL THEN m.params ELSE jsonb_set(m.params, '{chat_id}', to_jsonb(h.migrated_to)) END"
	"  FROM c LEFT JOIN chats h ON h.bot_id = $1 AND h.migrated_to IS NOT NULL"
	"  AND h.chat_id::text = c.chat WHERE m.id = c.id"
	"  RETURNING m.id, m.chat, m.method, m.params, m.priority, m.attempts, m.expires_at,"
	"  m.botapi),"
	" ev AS (INSERT INTO message_events (message_id, status) SELECT id, 'sending' FROM u),"
	" nx AS (SELECT (extract(epoch FROM min(n.not_before) - now()) * 1000)::bigint AS ms"
	"  FROM messages n WHERE n.bot_id = $1 AND n.status IN ('queued', 'retrying')"
	"  AND n.not_before > now() AND n.not_before > n.created_at"
	"  AND (SELECT count(*) FROM u) < $2)"
	" SELECT u.id, u.chat, u.method, u.params::text, u.priority, u.attempts,"
	"  u.expires_at IS NOT NULL AND u.expires_at <= now(),"
	"  (SELECT h.blocked_reason FROM chats h WHERE h.bot_id = $1 AND h.blocked_at IS NOT NULL"
	"   AND h.chat_id::text = u.chat),"
	"  (extract(epoch FROM u.expires_at - now()) * 1000)::bigint, nx.ms, u.botapi,"
	"  CASE WHEN u.botapi THEN EXISTS (SELECT 1 FROM botapi_files f"
	"   WHERE f.message_id = u.id) ELSE false END"
	" FROM nx LEFT JOIN u ON true";

/* bot_param - the lane's bot id as a query parameter */
static void bot_param(struct lane *l, char buf[24])
{
	snprintf(buf, 24, "%lld", (long long)l->bot_id);
}

/* on_recovered - the previous owner's sends are resolved: the lane may start (the
 * steps of a lane's start: claim_load, on_loaded, on_recovered, lane_ready) */
static void on_recovered(PGresult *res, const char *err, void *arg)
{
	struct lane *l = arg;

	if (err) {
		log_warn("bot=%lld recovery failed, retrying on the next lease round: %s",
			 (long long)l->bot_id, err);
		lane_fail(l);
		return;
	}
	if (strtol(PQcmdTuples(res), NULL, 10) > 0)
		log_notice("bot=%lld %s messages left in sending by a previous owner: %s",
			   (long long)l->bot_id, PQcmdTuples(res),
			   l->sd->ctx->cfg->senderd.ambiguous);
	lane_ready(l);
}

/* limits_of - the bot's limits from load_sql's row */
static struct lane_limits limits_of(PGresult *res)
{
	struct lane_limits lim;

	lim.per_second = (int)strtol(PQgetvalue(res, 0, 3), NULL, 10);
	lim.chat_per_second = (int)strtol(PQgetvalue(res, 0, 4), NULL, 10);
	lim.group_per_minute = (int)strtol(PQgetvalue(res, 0, 5), NULL, 10);
	lim.paid_broadcast = PQgetvalue(res, 0, 6)[0] == 't';
	return lim;
}

/* on_loaded - the bot's row: open its token, then resolve what a previous owner left */
static void on_loaded(PGresult *res, const char *err, void *arg)
{
	struct lane *l = arg;
	char bot[24], aad[48], *token = NULL;
	const char *p[3] = { bot, l->sd->ctx->cfg->senderd.ambiguous, RECOVER_DETAIL };
	struct lane_limits lim;

	if (!err && PQntuples(res) == 1) {
		snprintf(aad, sizeof(aad), "bot:%s:token", PQgetvalue(res, 0, 1));
		token = tgm_open(l->sd->ctx->secret_key, PQgetvalue(res, 0, 0), aad, NULL);
	}
	if (err || PQntuples(res) != 1 || token == NULL) {
		log_error("bot=%lld cannot start its lane: %s", (long long)l->bot_id,
			  err ? err : "its token does not open with this secret key");
		lane_fail(l);
		return;
	}
	lim = limits_of(res);
	lane_loaded(l, token, &lim);
	bot_param(l, bot);
	tgm_pg_query(l->pg, recover_sql, 3, p, on_recovered, l);
}

/* on_reloaded - the bot's limits read again: into the lane while it is ready */
static void on_reloaded(PGresult *res, const char *err, void *arg)
{
	struct lane *l = arg;

	lane_reload_end(l);
	if (!err && PQntuples(res) == 1 && l->state == LANE_READY) {
		struct lane_limits lim = limits_of(res);

		lane_set_limits(l, &lim);
		log_info("bot=%lld limits reloaded: %d/s, chat %d/s, group %d/min",
			 (long long)l->bot_id, l->per_second, l->chat_per_second,
			 l->group_per_minute);
	}
	lane_go_on(l);
}

void claim_reload(struct lane *l)
{
	char bot[24];
	const char *p[1] = { bot };

	if (!lane_reload_begin(l))
		return;
	bot_param(l, bot);
	tgm_pg_query(l->pg, load_sql, 1, p, on_reloaded, l);
}

void claim_load(struct lane *l)
{
	char bot[24];
	const char *p[1] = { bot };

	bot_param(l, bot);
	tgm_pg_query(l->pg, load_sql, 1, p, on_loaded, l);
}

/* take_row - one claimed row: expired and blocked ones end here; the rest, returned,
 * wait in the queue */
static struct pending *take_row(struct lane *l, PGresult *res, int i)
{
	struct pending *p = tgm_xcalloc(1, sizeof(*p));
	struct record *rec = l->sd->record;

	tgm_parse_int64(PQgetvalue(res, i, 0), &p->id);
	p->chat = tgm_xstrdup(PQgetvalue(res, i, 1));
	p->method = tgm_xstrdup(PQgetvalue(res, i, 2));
	p->params = tgm_xstrdup(PQgetvalue(res, i, 3));
	p->priority = (int)strtol(PQgetvalue(res, i, 4), NULL, 10);
	p->attempts = (int)strtol(PQgetvalue(res, i, 5), NULL, 10);
	p->botapi = PQgetvalue(res, i, 10)[0] == 't';
	p->files = PQgetvalue(res, i, 11)[0] == 't';
	if (PQgetvalue(res, i, 6)[0] == 't') {
		record_add(rec, p->id, l->bot_id, TGM_MSG_EXPIRED,
			   "ttl passed before it could be sent", 0, 0);
		pending_free(p);
		return NULL;
	} else if (!PQgetisnull(res, i, 7)) {
		char detail[300];

		snprintf(detail, sizeof(detail), "chat blocked: %s", PQgetvalue(res, i, 7));
		record_add(rec, p->id, l->bot_id, TGM_MSG_FAILED, detail, 0, 0);
		pending_free(p);
		return NULL;
	}
	int64_t left;

	if (!PQgetisnull(res, i, 8) && tgm_parse_int64(PQgetvalue(res, i, 8), &left))
		p->expires_at = tgm_mono_ms() + left;
	return p;
}

/* next_due - when the claim said the next message falls due: wake the lane then */
static void next_due(struct lane *l, PGresult *res)
{
	int64_t ms;

	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 9) ||
	    !tgm_parse_int64(PQgetvalue(res, 0, 9), &ms))
		return;
	lane_due_in(l, ms);
}

/* on_claimed - the claimed rows into the lane's queue (the steps of a claim:
 * lane_pump, claim_more, on_claimed, take_row, lane_go_on) */
static void on_claimed(PGresult *res, const char *err, void *arg)
{
	struct lane *l = arg;

	if (err && res == NULL) { /* the connection broke: it may have claimed rows */
		log_warn("bot=%lld claim failed, its rows are resolved once the lane is idle: %s",
			 (long long)l->bot_id, err);
		lane_claim_lost(l);
	} else if (err) {
		log_warn("bot=%lld claim failed: %s", (long long)l->bot_id, err);
		lane_claim_end(l, -1);
	} else {
		int n = 0, k = 0;
		struct pending **ps = tgm_xcalloc((size_t)PQntuples(res) + 1, sizeof(*ps));

		for (int i = 0; i < PQntuples(res); i++)
			if (!PQgetisnull(res, i, 0)) {
				n++;
				if ((ps[k] = take_row(l, res, i)) != NULL)
					k++;
			}
		lane_claim_end(l, n);
		lane_enqueue_all(l, ps, k);
		free(ps);
		next_due(l, res);
	}
	lane_go_on(l);
}

/* on_orphans - the rows of a lost claim are back in the queue: claiming goes on */
static void on_orphans(PGresult *res, const char *err, void *arg)
{
	struct lane *l = arg;

	if (err)
		log_warn("bot=%lld rows of a lost claim not resolved yet: %s", (long long)l->bot_id,
			 err);
	else if (strtol(PQcmdTuples(res), NULL, 10) > 0)
		log_notice("bot=%lld %s messages of a lost claim sent back to the queue",
			   (long long)l->bot_id, PQcmdTuples(res));
	lane_orphans_end(l, err == NULL);
	lane_go_on(l);
}

void claim_orphans(struct lane *l)
{
	char bot[24];
	const char *p[3] = { bot, l->sd->ctx->cfg->senderd.ambiguous, ORPHAN_DETAIL };

	bot_param(l, bot);
	tgm_pg_query(l->pg, recover_sql, 3, p, on_orphans, l);
}

void claim_more(struct lane *l)
{
	int want = lane_claim_begin(l);
	char bot[24], limit[16];
	const char *p[2] = { bot, limit };

	if (want <= 0)
		return;
	bot_param(l, bot);
	snprintf(limit, sizeof(limit), "%d", want);
	tgm_pg_query_prepared(l->pg, "claim", claim_sql, 2, p, on_claimed, l);
}
