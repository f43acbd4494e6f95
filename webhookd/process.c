/*
 * process.c - the processor: claims stored updates (the oldest unprocessed one of each
 * chat, so a chat's updates are handled in order, also across several webhookd) and
 * runs each as a job (job.c: recorded, acted on, finished). A claim takes up to
 * CLAIM_N updates, each the head of its chat, so they are processed side by side,
 * spread over [webhookd] process_connections connections (the jobs of a connection
 * recorded and finished together: group.c). A full claim is followed at once by the
 * next (BATCHES batches worked at once, their chats all different); when a batch is
 * done the next claim follows, until a claim finds nothing (the sweep timer and new
 * updates wake it again).
 */
#include "webhookd/job.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLAIM_N 64 /* updates a claim takes at most */
#define TEXT_OF(n) #n
#define TEXT(n) TEXT_OF(n)
#define BATCHES 2         /* claimed batches worked at once: the next is claimed meanwhile */
#define WALKS_EMPTY_MAX 8 /* claims in a row that walk on chat by chat finding nothing */

/* $1: the claim's length in seconds; $2, $3: the bot and chat where the last claim's
 * walk chat by chat stopped. The CLAIM_N oldest unprocessed updates, each the oldest of
 * its chat, from sql/functions/wh_due.sql (planned there with sorts off, so a backlog
 * that came after the statistics is walked in seq order, not sorted); then, if it
 * walked chat by chat, a row with seq NULL and where the next walk starts (NULLs: where
 * this one did) */
/* clang-format off */
static const char claim_sql[] =
	"WITH c AS (SELECT * FROM wh_due(" TEXT(CLAIM_N) ", $2, $3)),"
	" u AS (UPDATE tg_updates u SET claimed_until = now() + make_interval(secs => $1::int),"
	"  attempts = u.attempts + 1 FROM c WHERE u.seq = c.seq"
	"  RETURNING u.seq, u.bot_id, u.update_id, u.attempts, u.payload::text)"
	" SELECT * FROM u UNION ALL SELECT NULL, c.bot_id, c.chat_id, NULL, NULL FROM c"
	" WHERE c.seq IS NULL ORDER BY 1 NULLS LAST";
/* clang-format on */

/* a claim given back unworked was no attempt; its updates found by key alone, as
 * sql/functions/wh_finish_many.sql says why */
static const char release_sql[] =
	"WITH o AS MATERIALIZED (SELECT seq, processed_at FROM tg_updates"
	"  WHERE seq = ANY($1::bigint[]) FOR UPDATE)"
	" UPDATE tg_updates t SET claimed_until = NULL, attempts = t.attempts - 1"
	" FROM o WHERE t.seq = o.seq AND o.processed_at IS NULL";

/* the claimed batch being worked through */
struct batch {
	struct webhookd *wh;
	PGresult *res;
	int n, running;
};

static void claim(struct webhookd *wh);

/* release - give back a claim that will not be worked on (stopping) */
static void release(struct batch *bt)
{
	struct tgm_buf seqs;
	const char *params[1];

	tgm_buf_init(&seqs);
	for (int i = 0; i < bt->n; i++)
		tgm_pgarr_add(&seqs, PQgetvalue(bt->res, i, 0));
	tgm_pgarr_end(&seqs);
	params[0] = seqs.p;
	wh_write(bt->wh, "giving back claimed updates", release_sql, 1, params);
	tgm_buf_free(&seqs);
}

/* settle - processing: a claim or a batch is in flight */
static void settle(struct webhookd *wh)
{
	wh->processing = wh->claiming || wh->batches > 0;
}

/* claim_more - claim again when there may be more (or a kick came) and room for a batch */
static void claim_more(struct webhookd *wh, bool more)
{
	if ((more || wh->kick_again) && !wh->claiming && wh->batches < BATCHES && wh->bots_loaded &&
	    !wh->ctx->stopping)
		claim(wh);
}

/* batch_end - the last job is done: claim again (a chat's next update is claimable
 * once this one is done) */
static void batch_end(struct batch *bt)
{
	struct webhookd *wh = bt->wh;
	bool more = bt->n > 0;

	PQclear(bt->res);
	free(bt);
	wh->batches--;
	settle(wh);
	claim_more(wh, more);
}

/* on_job_end - one of the batch's jobs is over, done or not */
static void on_job_end(void *arg)
{
	struct batch *bt = arg;

	if (--bt->running == 0)
		batch_end(bt);
}

/* batch_start - every claimed update at once: each is the head of its own chat; row i's
 * statements go through the pool's connection i % npool, where the jobs are recorded
 * together (group.c) */
static void batch_start(struct batch *bt)
{
	struct webhookd *wh = bt->wh;
	int n = bt->n, np = wh->npool, k = 0;
	struct wh_job **jobs;

	if (n == 0 || wh->ctx->stopping) {
		if (n > 0)
			release(bt); /* stopping: the claim goes back at once */
		batch_end(bt);
		return;
	}
	bt->running = n; /* before any job can end */
	jobs = tgm_xcalloc((size_t)n, sizeof(*jobs));
	for (int c = 0; c < np; c++) { /* jobs[] holds each connection's jobs in a row */
		int from = k;

		for (int i = c; i < n; i += np) {
			struct wh_claimed cl = { .payload = PQgetvalue(bt->res, i, 4) };

			tgm_parse_int64(PQgetvalue(bt->res, i, 0), &cl.seq);
			tgm_parse_int64(PQgetvalue(bt->res, i, 1), &cl.bot_id);
			tgm_parse_int64(PQgetvalue(bt->res, i, 2), &cl.update_id);
			cl.attempts = (int)strtol(PQgetvalue(bt->res, i, 3), NULL, 10);
			if ((jobs[k] = wh_job_start(wh, wh->pool[c], &cl, on_job_end, bt)) != NULL)
				k++;
		}
		if (k > from)
			wh_group_record(jobs + from, k - from);
	}
	free(jobs);
}

/* walked - row i says where the claim's walk chat by chat stopped: the next starts
 * there; true when it moved on */
static bool walked(struct webhookd *wh, PGresult *res, int i)
{
	int64_t bot = 0, chat = 0;
	bool moved;

	if (PQgetisnull(res, i, 1))
		return false;
	tgm_parse_int64(PQgetvalue(res, i, 1), &bot);
	tgm_parse_int64(PQgetvalue(res, i, 2), &chat);
	moved = bot != wh->walked_bot || chat != wh->walked_chat;
	wh->walked_bot = bot;
	wh->walked_chat = chat;
	return moved;
}

/* on_claimed - the claimed updates: work them as a batch, and when the claim was full
 * claim the next batch meanwhile (its chats are others: a chat's next update waits for
 * this one's end); a failed claim waits for a kick */
static void on_claimed(PGresult *res, const char *err, void *arg)
{
	struct webhookd *wh = arg;
	struct batch *bt;
	bool full, moved;

	wh->claiming = false;
	if (err) {
		log_warn("claiming updates: %s", err);
		settle(wh);
		return;
	}
	bt = tgm_xcalloc(1, sizeof(*bt));
	bt->wh = wh;
	bt->res = PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
	bt->n = PQntuples(res);
	moved = bt->n > 0 && PQgetisnull(res, bt->n - 1, 0) && walked(wh, res, --bt->n);
	/* a claim that walked on and found nothing: the chats not reached yet may have
	 * updates, and no new one may come to kick it (WALKS_EMPTY_MAX in a row) */
	wh->walks_empty = bt->n == 0 && moved ? wh->walks_empty + 1 : 0;
	full = bt->n == CLAIM_N || (wh->walks_empty > 0 && wh->walks_empty <= WALKS_EMPTY_MAX);
	wh->batches++;
	settle(wh);
	batch_start(bt); /* may end it at once */
	claim_more(wh, full);
}

/* wh_claim_seconds - how long a claim holds: longer than an update's direct calls
 * (createForumTopic, the card) may take */
int wh_claim_seconds(const struct webhookd *wh)
{
	return 2 * wh->ctx->cfg->telegram.timeout + 10;
}

/* claim - claim the next batch of updates, each the oldest unprocessed of its chat */
static void claim(struct webhookd *wh)
{
	char secs[16], bot[24], chat[24];
	const char *params[3] = { secs, bot, chat };

	snprintf(secs, sizeof(secs), "%d", wh_claim_seconds(wh));
	snprintf(bot, sizeof(bot), "%lld", (long long)wh->walked_bot);
	snprintf(chat, sizeof(chat), "%lld", (long long)wh->walked_chat);
	wh->claiming = true;
	wh->kick_again = false;
	settle(wh);
	tgm_pg_query(wh->ctx->db, claim_sql, 3, params, on_claimed, wh);
}

void wh_process_kick(struct webhookd *wh)
{
	wh->walks_empty = 0;
	if (wh->claiming || wh->batches >= BATCHES) {
		wh->kick_again = true;
		return;
	}
	claim_more(wh, true);
}
