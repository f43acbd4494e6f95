/*
 * start.c - a lane's start in PostgreSQL: loading its bot (token, limits), resolving
 * what a previous owner left in 'sending'; reading the limits again when the bot's
 * settings change; resolving the rows of a claim whose answer was lost (LANE_ORPHANS,
 * lane.h) the same way. What happened is told to the lane through lane_*. The lanes
 * waiting to start on one of the claim connections start together, in one statement
 * (struct claim_group, claim.h).
 *
 * What a previous owner left in 'sending' may or may not have reached Telegram; it is
 * treated like any send with an unknown outcome: [senderd] ambiguous decides (retry:
 * send again, a possible duplicate; fail: mark it failed, but only where the send
 * had started (send_started_at): a claimed row that never left goes again).
 */
#include "senderd/claim.h"
#include "senderd/lane.h"
#include "common/buf.h"
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

/* The starts of every lane waiting on a connection, in one statement: $1 the bots. What
 * a previous owner left in 'sending' is resolved as recover_sql does it (column 8 counts
 * it per bot), and each bot's row comes as load_sql's (after column 0, the bot's place
 * in $1), or NULLs for a bot gone. One statement instead of two a bot, queued one behind
 * the other: 100 bots taken at once start together, tenths of a second sooner. */
static const char start_sql[] =
	"WITH r AS (SELECT * FROM unnest($1::bigint[]) WITH ORDINALITY AS r(bot_id, k)),"
	" rec AS (UPDATE messages m SET status = CASE WHEN $2 = 'fail'"
	"  AND m.send_started_at IS NOT NULL THEN 'failed' ELSE 'retrying' END,"
	"  not_before = now(), updated_at = now(), last_error = $3"
	"  FROM r WHERE m.bot_id = r.bot_id AND m.status = 'sending'"
	"  RETURNING m.id, m.bot_id, m.status),"
	" ev AS (INSERT INTO message_events (message_id, status, detail)"
	"  SELECT id, status, $3 FROM rec),"
	" n AS (SELECT bot_id, count(*) AS n FROM rec GROUP BY bot_id)"
	" SELECT r.k, b.token_sealed, b.telegram_id, b.enabled,"
	" ((s->>'per_second')::int), ((s->>'chat_per_second')::int),"
	" ((s->>'group_per_minute')::int), ((s->>'paid_broadcast')::boolean), coalesce(n.n, 0)"
	" FROM r LEFT JOIN bots b ON b.id = r.bot_id LEFT JOIN LATERAL (SELECT"
	"  coalesce((SELECT jsonb_object_agg(key, value) FROM bot_setting_defaults), '{}')"
	"  || b.settings AS s) x ON b.id IS NOT NULL LEFT JOIN n ON n.bot_id = r.bot_id"
	" ORDER BY r.k";

/* bot_param - the lane's bot id as a query parameter */
static void bot_param(struct lane *l, char buf[24])
{
	snprintf(buf, 24, "%lld", (long long)l->bot_id);
}

/* on_recovered - the previous owner's sends are resolved: the lane may start (the
 * steps of a lane's start: start_load, on_loaded, on_recovered, lane_ready) */
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

/* limits_at - the bot's limits from row i of a statement whose load_sql columns start at
 * column c (0: load_sql's own row) */
static struct lane_limits limits_at(PGresult *res, int i, int c)
{
	struct lane_limits lim;

	lim.per_second = (int)strtol(PQgetvalue(res, i, c + 3), NULL, 10);
	lim.chat_per_second = (int)strtol(PQgetvalue(res, i, c + 4), NULL, 10);
	lim.group_per_minute = (int)strtol(PQgetvalue(res, i, c + 5), NULL, 10);
	lim.paid_broadcast = PQgetvalue(res, i, c + 6)[0] == 't';
	return lim;
}

/* token_at - the bot's token opened from row i (load_sql's columns from c), or NULL
 * (a bot gone, or a token that does not open with this secret key) */
static char *token_at(struct lane *l, PGresult *res, int i, int c)
{
	char aad[48];

	if (PQgetisnull(res, i, c))
		return NULL;
	snprintf(aad, sizeof(aad), "bot:%s:token", PQgetvalue(res, i, c + 1));
	return tgm_open(l->sd->ctx->secret_key, PQgetvalue(res, i, c), aad, NULL);
}

/* on_loaded - the bot's row: open its token, then resolve what a previous owner left
 * (a lane's start alone, after its group's start failed: load_one) */
static void on_loaded(PGresult *res, const char *err, void *arg)
{
	struct lane *l = arg;
	char bot[24], *token = NULL;
	const char *p[3] = { bot, l->sd->ctx->cfg->senderd.ambiguous, RECOVER_DETAIL };
	struct lane_limits lim;

	if (!err && PQntuples(res) == 1)
		token = token_at(l, res, 0, 0);
	if (err || PQntuples(res) != 1 || token == NULL) {
		log_error("bot=%lld cannot start its lane: %s", (long long)l->bot_id,
			  err ? err : "its token does not open with this secret key");
		lane_fail(l);
		return;
	}
	lim = limits_at(res, 0, 0);
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
		struct lane_limits lim = limits_at(res, 0, 0);

		lane_set_limits(l, &lim);
		log_info("bot=%lld limits reloaded: %d/s, chat %d/s, group %d/min",
			 (long long)l->bot_id, l->per_second, l->chat_per_second,
			 l->group_per_minute);
	}
	lane_go_on(l);
}

void start_reload(struct lane *l)
{
	char bot[24];
	const char *p[1] = { bot };

	if (!lane_reload_begin(l))
		return;
	bot_param(l, bot);
	tgm_pg_query(l->pg, load_sql, 1, p, on_reloaded, l);
}

/* load_one - a lane's start alone: its bot's row, then its recovery */
static void load_one(struct lane *l)
{
	char bot[24];
	const char *p[1] = { bot };

	bot_param(l, bot);
	tgm_pg_query(l->pg, load_sql, 1, p, on_loaded, l);
}

/* start_one - row i of start_sql's answer: the lane gets its token and limits and is
 * ready, or cannot start */
static void start_one(struct lane *l, PGresult *res, int i)
{
	char *token = token_at(l, res, i, 1);
	struct lane_limits lim;

	if (token == NULL) {
		log_error("bot=%lld cannot start its lane: %s", (long long)l->bot_id,
			  PQgetisnull(res, i, 1) ? "its bot is gone"
						 : "its token does not open with this secret key");
		lane_fail(l);
		return;
	}
	lim = limits_at(res, i, 1);
	lane_loaded(l, token, &lim);
	if (strcmp(PQgetvalue(res, i, 8), "0") != 0)
		log_notice("bot=%lld %s messages left in sending by a previous owner: %s",
			   (long long)l->bot_id, PQgetvalue(res, i, 8),
			   l->sd->ctx->cfg->senderd.ambiguous);
	lane_ready(l);
}

/* on_started - a group's starts answered: each lane starts, or cannot. A statement that
 * failed (not a lost connection) starts each lane alone, so that one bot's bad row
 * (settings that do not cast) keeps only its own lane from starting */
static void on_started(PGresult *res, const char *err, void *arg)
{
	struct claim_batch *b = arg;
	struct claim_group *g = b->g;
	int n = err ? 0 : PQntuples(res);

	if (err)
		log_warn("start of %d bots failed, %s: %s", b->n,
			 res ? "starting each alone" : "retrying on the next lease round", err);
	for (int i = 0; i < b->n; i++) {
		struct lane *l = b->lanes[i];

		if (err && res)
			load_one(l);
		else if (err || i >= n || strtol(PQgetvalue(res, i, 0), NULL, 10) != i + 1)
			lane_fail(l);
		else
			start_one(l, res, i);
	}
	free(b);
	g->start_busy = false;
	if (g->starting)
		claim_group_kick(g);
}

void start_send(struct claim_group *g)
{
	struct tgm_buf bots;
	struct claim_batch *b = claim_batch_take(g, &g->starting, &g->stail, &bots);
	const char *p[3] = { bots.p, g->sd->ctx->cfg->senderd.ambiguous, RECOVER_DETAIL };

	g->start_busy = true;
	tgm_pg_query(g->sd->lane_pgs[g->pgi], start_sql, 3, p, on_started, b);
	tgm_buf_free(&bots);
}

void start_load(struct lane *l)
{
	struct claim_group *g = &l->sd->claim_groups[l->pgi];

	l->cnext = NULL;
	*g->stail = l;
	g->stail = &l->cnext;
	if (!g->start_busy)
		claim_group_kick(g);
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

void start_orphans(struct lane *l)
{
	char bot[24];
	const char *p[3] = { bot, l->sd->ctx->cfg->senderd.ambiguous, ORPHAN_DETAIL };

	bot_param(l, bot);
	tgm_pg_query(l->pg, recover_sql, 3, p, on_orphans, l);
}
