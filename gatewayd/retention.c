/*
 * retention.c - the retention pruner: every [retention] interval seconds, a run of
 * steps, each one call of retention_step (sql/functions/retention_step.sql) in its own
 * transaction: make the next partition of messages ahead, drop a partition older than
 * the kept time, or delete one batch of a small table's old rows. A run ends when a
 * step finds nothing to do, finds the lease held by another instance (one pruner acts
 * in the whole cluster: every gatewayd tries, the lease holder works), fails (logged;
 * the next run tries again), or after MAX_STEPS. Its own connection (a step may wait up
 * to 500 ms for a table's lock), pooled: the lease is a row, so nothing needs a session.
 * What a step did is logged at info; the kept times are read from the configuration at
 * each step, so a reload changes them.
 */
#include "gatewayd/retention.h"
#include "common/dbconn.h"
#include "common/log.h"
#include "common/pgasync.h"
#include "common/util.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_STEPS 10000
#define LEASE_EXTRA_S 60 /* the lease outlives the interval: the holder keeps it */

struct gw_retention {
	struct tgm_ctx *ctx;
	struct tgm_pg *pg;
	struct event *ev_run;
	char owner[320]; /* host:pid/instance, the lease's holder */
	bool running;    /* a step is in flight */
	bool stopping;
	bool freeing; /* in gw_retention_free: a failed statement starts nothing */
	int steps;
};

static const char step_sql[] = "SELECT retention_step($1, make_interval(secs => $2::int),"
			       " $3::bigint, $4::int, $5::jsonb)";
static const char release_sql[] = "UPDATE retention_lease SET until = '-infinity'"
				  " WHERE name = 'pruner' AND owner = $1";

static void step(struct gw_retention *r);

/* on_released - the lease given back at the drain */
static void on_released(PGresult *res, const char *err, void *arg)
{
	if (err)
		log_warn("retention: giving the lease back: %s", err);
}

/* end_run - the run is over: the next one after the interval, or the lease given back */
static void end_run(struct gw_retention *r)
{
	struct timeval tv = { r->ctx->cfg->retention.interval, 0 };
	const char *p[1] = { r->owner };

	r->running = false;
	if (r->freeing)
		return;
	if (r->stopping)
		tgm_pg_query(r->pg, release_sql, 1, p, on_released, r);
	else
		event_add(r->ev_run, &tv);
}

/* on_step - one step done: log what it did, go on while there is work */
static void on_step(PGresult *res, const char *err, void *arg)
{
	struct gw_retention *r = arg;
	const char *did = err ? "" : PQgetvalue(res, 0, 0);

	if (err) {
		log_warn("retention: %s", err);
	} else if (strcmp(did, "busy") == 0) {
		log_debug("retention: another instance holds the pruner's lease");
	} else if (strcmp(did, "idle") != 0) {
		log_info("retention: %s", did);
		if (++r->steps < MAX_STEPS && !r->stopping) {
			step(r);
			return;
		}
	}
	end_run(r);
}

/* keep_json - each kind's kept time in seconds (0: for ever), from the configuration */
static void keep_json(const struct tgm_config *cfg, char *out, size_t size)
{
	const long day = 86400;

	snprintf(out, size,
		 "{\"messages\": %ld, \"events\": %ld, \"idempotency\": %ld, \"tg_updates\": %ld,"
		 " \"stripe_events\": %ld, \"callbacks\": %ld, \"sessions\": %ld, \"inbox\": %ld}",
		 cfg->retention.messages_days * day, cfg->retention.events_days * day,
		 cfg->retention.idempotency_hours * 3600L, cfg->retention.tg_updates_days * day,
		 cfg->retention.stripe_events_days * day, cfg->retention.callbacks_days * day,
		 cfg->retention.sessions_days * day, cfg->retention.inbox_days * day);
}

/* step - one call of retention_step */
static void step(struct gw_retention *r)
{
	const struct tgm_config *cfg = r->ctx->cfg;
	char lease[24], size[24], batch[24], keep[512];
	const char *p[5] = { r->owner, lease, size, batch, keep };

	r->running = true;
	snprintf(lease, sizeof(lease), "%d", cfg->retention.interval + LEASE_EXTRA_S);
	snprintf(size, sizeof(size), "%d", cfg->retention.partition_size);
	snprintf(batch, sizeof(batch), "%d", cfg->retention.batch);
	keep_json(cfg, keep, sizeof(keep));
	tgm_pg_query(r->pg, step_sql, 5, p, on_step, r);
}

/* on_run - the interval is over: a run begins */
static void on_run(evutil_socket_t fd, short what, void *arg)
{
	struct gw_retention *r = arg;

	if (r->running || r->stopping)
		return;
	r->steps = 0;
	step(r);
}

struct gw_retention *gw_retention_new(struct tgm_ctx *ctx)
{
	struct gw_retention *r = tgm_xcalloc(1, sizeof(*r));
	struct timeval now = { 0, 0 };
	char host[256] = "";

	r->ctx = ctx;
	r->pg = tgm_dbconn_async(ctx->base, ctx->cfg, "gatewayd-retention", TGM_DBCONN_POOLED);
	gethostname(host, sizeof(host) - 1);
	snprintf(r->owner, sizeof(r->owner), "%s:%ld/%s", host, (long)getpid(), ctx->instance);
	r->ev_run = evtimer_new(ctx->base, on_run, r);
	event_add(r->ev_run, &now);
	return r;
}

void gw_retention_stop(struct gw_retention *r)
{
	if (r == NULL || r->stopping)
		return;
	r->stopping = true;
	event_del(r->ev_run);
	if (!r->running)
		end_run(r);
}

int gw_retention_busy(const struct gw_retention *r)
{
	return r ? tgm_pg_pending(r->pg) : 0;
}

void gw_retention_free(struct gw_retention *r)
{
	if (r == NULL)
		return;
	r->freeing = true;
	event_free(r->ev_run);
	tgm_pg_free(r->pg);
	free(r);
}
