/*
 * group.c - the statements that jobs on one processing connection share, so that many
 * updates take one transaction (one wait for the disk) and one statement (the counter
 * triggers of messages run once): at a batch's start, the jobs of each connection are
 * recorded (wh_record, and inbox_record when it rides) in one statement; jobs done in
 * one turn of the event loop are finished (wh_finish_many: replies queued, updates
 * marked) in one statement. A group's statement is one transaction: when it fails it
 * changed nothing, and each of its jobs runs that step alone (job.c), so one bad update
 * does not hold back the others.
 */
#include "webhookd/job.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* $1 the updates (a JSON array), $2 their bots, $3 their seqs, $4 count the message (first
 * attempt), $5 the inbox rides: one row per update, in their order */
static const char record_sql[] =
	"SELECT r.user_id, r.new_user, r.credits, r.pass_active, r.banned,"
	"  CASE WHEN ($5::boolean[])[x.i] THEN"
	"   inbox_record(($2::bigint[])[x.i], ($3::bigint[])[x.i], x.u) END"
	" FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY x(u, i)"
	" LEFT JOIN LATERAL wh_record(($2::bigint[])[x.i], x.u, ($4::boolean[])[x.i]) r ON true"
	" ORDER BY x.i";

/* $1 seqs, $2 outcomes, $3 billing, $4 the replies (a JSON array of arrays) */
static const char finish_sql[] = "SELECT bot_id, queued FROM wh_finish_many($1::bigint[],"
				 " $2::text[], $3::boolean[], $4::jsonb)";

/* the finishes gathered on one connection in this turn of the loop */
struct wh_group {
	struct webhookd *wh;
	struct tgm_pg *pg;
	struct event *ev; /* fires at the end of the turn: flush */
	struct wh_job **jobs;
	int n, cap;
	struct tgm_buf seqs, outcomes, billing, replies;
};

/* a group's statement in flight: its jobs */
struct flight {
	struct webhookd *wh;
	struct wh_job **jobs;
	int n;
};

/* flight_new - a flight of n jobs (copied) */
static struct flight *flight_new(struct webhookd *wh, struct wh_job **jobs, int n)
{
	struct flight *f = tgm_xcalloc(1, sizeof(*f));

	f->wh = wh;
	f->n = n;
	f->jobs = tgm_xcalloc((size_t)n, sizeof(*jobs));
	memcpy(f->jobs, jobs, (size_t)n * sizeof(*jobs));
	return f;
}

/* flight_free - free f (not its jobs) */
static void flight_free(struct flight *f)
{
	free(f->jobs);
	free(f);
}

/* on_recorded - the group's record: each job goes on with its row; on an error, or an
 * answer that is not one row per job, each is recorded alone */
static void on_recorded(PGresult *res, const char *err, void *arg)
{
	struct flight *f = arg;

	if (!err && PQntuples(res) != f->n)
		err = "not one row per update";
	if (err)
		log_warn("recording %d updates together: %s (each alone now)", f->n, err);
	for (int i = 0; i < f->n; i++) {
		if (err)
			wh_job_record(f->jobs[i]);
		else
			wh_job_recorded(f->jobs[i], res, i, wh_inbox_rides(f->jobs[i]));
	}
	flight_free(f);
}

void wh_group_record(struct wh_job **jobs, int n)
{
	struct tgm_buf updates, bots, seqs, counts, inbox;
	char num[24];
	const char *params[5];

	if (n == 1) {
		wh_job_record(jobs[0]);
		return;
	}
	tgm_buf_init(&updates);
	tgm_buf_init(&bots);
	tgm_buf_init(&seqs);
	tgm_buf_init(&counts);
	tgm_buf_init(&inbox);
	for (int i = 0; i < n; i++) {
		tgm_buf_addc(&updates, i ? ',' : '[');
		tgm_buf_adds(&updates, wh_job_payload(jobs[i]));
		tgm_i64(num, sizeof(num), jobs[i]->bot_id);
		tgm_pgarr_add(&bots, num);
		tgm_i64(num, sizeof(num), jobs[i]->seq);
		tgm_pgarr_add(&seqs, num);
		tgm_pgarr_add(&counts, jobs[i]->attempts == 1 ? "t" : "f");
		tgm_pgarr_add(&inbox, wh_inbox_rides(jobs[i]) ? "t" : "f");
	}
	tgm_buf_addc(&updates, ']');
	tgm_pgarr_end(&bots);
	tgm_pgarr_end(&seqs);
	tgm_pgarr_end(&counts);
	tgm_pgarr_end(&inbox);
	params[0] = updates.p;
	params[1] = bots.p;
	params[2] = seqs.p;
	params[3] = counts.p;
	params[4] = inbox.p;
	tgm_pg_query(wh_job_pg(jobs[0]), record_sql, 5, params, on_recorded,
		     flight_new(jobs[0]->wh, jobs, n));
	tgm_buf_free(&updates);
	tgm_buf_free(&bots);
	tgm_buf_free(&seqs);
	tgm_buf_free(&counts);
	tgm_buf_free(&inbox);
}

/* on_finished - the group's finish: ring senderd for each bot with replies queued and
 * end the jobs; on an error each finishes alone */
static void on_finished(PGresult *res, const char *err, void *arg)
{
	struct flight *f = arg;
	int64_t bot, queued;

	if (err) {
		log_warn("finishing %d updates together: %s (each alone now)", f->n, err);
		for (int i = 0; i < f->n; i++)
			wh_job_finish_alone(f->jobs[i]);
		flight_free(f);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++)
		if (tgm_parse_int64(PQgetvalue(res, i, 0), &bot) &&
		    tgm_parse_int64(PQgetvalue(res, i, 1), &queued) && queued > 0)
			wh_ring(f->wh, bot);
	for (int i = 0; i < f->n; i++)
		wh_job_finished(f->jobs[i], NULL);
	flight_free(f);
}

/* group_reset - empty g's gathered finishes */
static void group_reset(struct wh_group *g)
{
	g->n = 0;
	tgm_buf_reset(&g->seqs);
	tgm_buf_reset(&g->outcomes);
	tgm_buf_reset(&g->billing);
	tgm_buf_reset(&g->replies);
}

/* on_flush - the turn is over: the gathered finishes go in one statement (one alone
 * in the statement of its own) */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct wh_group *g = arg;
	const char *params[4];

	(void)fd;
	(void)what;
	if (g->n == 0)
		return;
	if (g->n == 1) {
		wh_job_finish_alone(g->jobs[0]);
		group_reset(g);
		return;
	}
	tgm_pgarr_end(&g->seqs);
	tgm_pgarr_end(&g->outcomes);
	tgm_pgarr_end(&g->billing);
	tgm_buf_addc(&g->replies, ']');
	params[0] = g->seqs.p;
	params[1] = g->outcomes.p;
	params[2] = g->billing.p;
	params[3] = g->replies.p;
	tgm_pg_query(g->pg, finish_sql, 4, params, on_finished, flight_new(g->wh, g->jobs, g->n));
	group_reset(g);
}

void wh_group_finish(struct wh_job *j)
{
	struct webhookd *wh = j->wh;
	struct wh_group *g = NULL;
	struct tgm_pg *pg = wh_job_pg(j);
	char num[24];
	static const struct timeval now = { 0, 0 };

	for (int i = 0; i < wh->npool && g == NULL; i++)
		if (wh->groups[i].pg == pg)
			g = &wh->groups[i];
	if (g == NULL) { /* not a processing connection's */
		wh_job_finish_alone(j);
		return;
	}
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 32;
		g->jobs = tgm_xrealloc(g->jobs, (size_t)g->cap * sizeof(*g->jobs));
	}
	g->jobs[g->n++] = j;
	tgm_i64(num, sizeof(num), j->seq);
	tgm_pgarr_add(&g->seqs, num);
	tgm_pgarr_add(&g->outcomes, wh_job_outcome(j));
	tgm_pgarr_add(&g->billing, j->billing ? "t" : "f");
	tgm_buf_addc(&g->replies, g->n > 1 ? ',' : '[');
	tgm_buf_adds(&g->replies, wh_job_replies(j));
	if (g->n == 1)
		event_add(g->ev, &now);
}

void wh_group_start(struct webhookd *wh)
{
	wh->groups = tgm_xcalloc((size_t)wh->npool, sizeof(*wh->groups));
	for (int i = 0; i < wh->npool; i++) {
		struct wh_group *g = &wh->groups[i];

		g->wh = wh;
		g->pg = wh->pool[i];
		g->ev = evtimer_new(wh->ctx->base, on_flush, g);
		tgm_buf_init(&g->seqs);
		tgm_buf_init(&g->outcomes);
		tgm_buf_init(&g->billing);
		tgm_buf_init(&g->replies);
	}
}

void wh_group_free(struct webhookd *wh)
{
	for (int i = 0; wh->groups && i < wh->npool; i++) {
		struct wh_group *g = &wh->groups[i];

		event_free(g->ev);
		free(g->jobs);
		tgm_buf_free(&g->seqs);
		tgm_buf_free(&g->outcomes);
		tgm_buf_free(&g->billing);
		tgm_buf_free(&g->replies);
	}
	free(wh->groups);
	wh->groups = NULL;
}
