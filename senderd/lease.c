/*
 * lease.c - which bots this senderd may send for. A row in bot_leases per bot names
 * its owner and an expiry; every lease_seconds/3 one statement renews ours, releases
 * those of disabled or deleted bots, and takes expired ones (their owner died) and
 * never leased ones up to a fair share (enabled bots / live senderd instances, from
 * the heartbeats).
 *
 * Two owners at once are impossible: a lease is taken only when expired, under the
 * row lock of ON CONFLICT, and a lane stops starting sends when its lease may have
 * run out (lease_until_ms, measured from before the renewal was sent, less a margin).
 * A draining senderd keeps renewing (taking nothing new) until its last request is
 * answered, then releases its leases.
 *
 * A late round must not wedge: the renewal has a connection of its own (lease_pg), so
 * it never waits behind the lanes' claims, and one round runs at a time. Our own
 * leases are renewed even when they have expired (unless another instance took them
 * meanwhile) and are never among the candidates: no row is touched twice by the one
 * statement, which PostgreSQL would refuse as a whole, round after round.
 */
#include "senderd/senderd.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define LEASE_MARGIN_MS 1000

static const char lease_sql[] =
	"WITH renewed AS (UPDATE bot_leases l SET expires_at = now() + make_interval(secs => $2)"
	"  FROM bots b WHERE l.owner = $1 AND b.id = l.bot_id AND b.enabled"
	"  AND b.deleted_at IS NULL RETURNING l.bot_id),"
	" released AS (DELETE FROM bot_leases l WHERE l.owner = $1"
	"  AND l.bot_id NOT IN (SELECT bot_id FROM renewed)),"
	" fair AS (SELECT ceil((SELECT count(*) FROM bots WHERE enabled AND deleted_at IS NULL)"
	"  ::numeric / greatest(1, (SELECT count(*) FROM daemons WHERE name = 'senderd'"
	"  AND stopped_at IS NULL AND seen_at > now() - interval '5 seconds')))::int AS n),"
	" unleased AS (SELECT b.id FROM bots b WHERE b.enabled AND b.deleted_at IS NULL"
	"  AND NOT EXISTS (SELECT 1 FROM bot_leases l WHERE l.bot_id = b.id) ORDER BY b.id"
	"  LIMIT CASE WHEN $3 THEN greatest(0, (SELECT n FROM fair) - (SELECT count(*)"
	"  FROM renewed)) ELSE 0 END),"
	" candidates AS (SELECT id FROM unleased UNION SELECT l.bot_id FROM bot_leases l"
	"  JOIN bots b ON b.id = l.bot_id WHERE b.enabled AND b.deleted_at IS NULL"
	"  AND l.expires_at < now() AND l.owner <> $1 AND $3),"
	" taken AS (INSERT INTO bot_leases (bot_id, owner, expires_at)"
	"  SELECT id, $1, now() + make_interval(secs => $2) FROM candidates"
	"  ON CONFLICT (bot_id) DO UPDATE SET owner = EXCLUDED.owner,"
	"  expires_at = EXCLUDED.expires_at WHERE bot_leases.expires_at < now()"
	"  RETURNING bot_id)"
	" SELECT h.bot_id, (SELECT n FROM fair), h.taken, b.settings::text"
	" FROM (SELECT bot_id, false AS taken FROM renewed"
	"  UNION ALL SELECT bot_id, true FROM taken) h JOIN bots b ON b.id = h.bot_id"
	" ORDER BY h.taken DESC, h.bot_id";

struct lease_round {
	struct senderd *sd;
	int64_t sent_ms;
};

/*
 * apply - lanes for the bots we hold, none for the others. Holding more than the
 * fair share (another senderd came up), the lanes of the highest bot ids beyond it
 * are shed: they stop gracefully and their leases are deleted once their last
 * request is answered, for the newcomer to take. A round that took over bots of a
 * dead senderd sheds nothing (its heartbeat may still count it alive for a moment).
 */
static void apply(struct senderd *sd, PGresult *res)
{
	unsigned gen = ++sd->lease_gen;
	int n = PQntuples(res), fair = n ? (int)strtol(PQgetvalue(res, 0, 1), NULL, 10) : 0;
	bool took = n > 0 && PQgetvalue(res, 0, 2)[0] == 't'; /* taken rows come first */

	for (int i = 0; i < n; i++) {
		int64_t bot_id;
		struct lane *l;

		if (!tgm_parse_int64(PQgetvalue(res, i, 0), &bot_id))
			continue;
		if (i >= fair && fair > 0 && !took) {
			if (lane_find(sd, bot_id) == NULL)
				lease_release(sd, bot_id);
			continue; /* not seen this round: its lane is swept, stops, releases */
		}
		lane_ensure(sd, bot_id, gen);
		if ((l = lane_find(sd, bot_id)) != NULL)
			lane_settings(l, PQgetvalue(res, i, 3));
	}
	lane_sweep(sd, gen);
	lane_pump_all(sd); /* lanes that paused for the renewal go on */
}

/* on_lease - a lease round's answer: extend our lease deadline, start and stop lanes */
static void on_lease(PGresult *res, const char *err, void *arg)
{
	struct lease_round *lr = arg;
	struct senderd *sd = lr->sd;

	sd->lease_busy = false;
	if (err) {
		log_warn("lease renewal failed: %s", err);
	} else {
		sd->lease_until_ms = lr->sent_ms + sd->ctx->cfg->senderd.lease_seconds * 1000LL -
				     LEASE_MARGIN_MS;
		if (!sd->stopping)
			apply(sd, res);
	}
	free(lr);
}

/* renew - one lease round, unless the last one is still running (its answer counts) */
static void renew(struct senderd *sd)
{
	struct lease_round *lr;
	char secs[16];
	const char *p[3] = { sd->owner, secs, sd->stopping ? "false" : "true" };

	if (sd->lease_busy)
		return;
	sd->lease_busy = true;
	lr = tgm_xmalloc(sizeof(*lr));
	lr->sd = sd;
	lr->sent_ms = tgm_mono_ms();
	snprintf(secs, sizeof(secs), "%d", sd->ctx->cfg->senderd.lease_seconds);
	tgm_pg_query(sd->lease_pg, lease_sql, 3, p, on_lease, lr);
}

/* on_timer - the lease timer: another round */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	renew(arg); /* also while draining: the bots stay ours until the last answer */
}

void lease_start(struct senderd *sd)
{
	int ms = sd->ctx->cfg->senderd.lease_seconds * 1000 / 3;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	sd->ev_lease = event_new(sd->ctx->base, -1, EV_PERSIST, on_timer, sd);
	event_add(sd->ev_lease, &tv);
	renew(sd);
}

/* on_released - leases given up (at drain or for one bot) */
static void on_released(PGresult *res, const char *err, void *arg)
{
	if (err)
		log_warn("leases not released (they will expire): %s", err);
	else if (strcmp(PQcmdTuples(res), "0") != 0)
		log_info("released %s bot leases", PQcmdTuples(res));
}

void lease_release(struct senderd *sd, int64_t bot_id)
{
	char bot[24];
	const char *p[2] = { sd->owner, bot };

	snprintf(bot, sizeof(bot), "%lld", (long long)bot_id);
	tgm_pg_query(sd->lease_pg, "DELETE FROM bot_leases WHERE owner = $1 AND bot_id = $2", 2, p,
		     on_released, NULL);
}

void lease_release_all(struct senderd *sd)
{
	const char *p[1] = { sd->owner };

	tgm_pg_query(sd->lease_pg, "DELETE FROM bot_leases WHERE owner = $1", 1, p, on_released,
		     NULL);
}
