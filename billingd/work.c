/*
 * work.c - billingd's loops, each woken by a kick (a push from webhookd, a NOTIFY,
 * the sweep timer):
 * - the round: Stripe events (each one claimed, acted on and marked in one SQL call,
 *   so a crash loses nothing and repeats nothing), then auto-recharge attempts, one at
 *   a time until none is due, then the time passes near their end warned of
 *   (bd_pass_warn); a kick meanwhile starts another round after this one;
 * - Telegram updates handed over by webhookd, claimed with a lease (an update whose
 *   billingd died is taken again when its lease runs out) by up to TG_LANES lanes at
 *   once, so that one slow Stripe call does not hold up every other user's purchase
 *   (a chat's updates still one after the other, in order);
 * - Stars pre-checkout queries, on a lane of their own: they must be answered within
 *   10 seconds, whatever Stripe does.
 */
#include "billingd/billingd.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TG_LANES 4

static const char stripe_step_sql[] = "SELECT event_id, outcome, bot FROM bd_stripe_step()";

/* CLAIM(kinds, more) - lease the oldest due update whose kind matches kinds */
#define CLAIM(kinds, more) \
	"UPDATE tg_updates u SET billing_claimed_until = now() + interval '60 seconds'," \
	"  billing_attempts = u.billing_attempts + 1" \
	" FROM (SELECT p.seq FROM tg_updates p WHERE p.billing_at IS NOT NULL" \
	"   AND p.billing_done_at IS NULL AND p.kind " kinds more \
	"   AND (p.billing_claimed_until IS NULL OR p.billing_claimed_until < now())" \
	"   ORDER BY p.seq LIMIT 1 FOR UPDATE SKIP LOCKED) c, bots b" \
	" WHERE u.seq = c.seq AND b.id = u.bot_id" \
	" RETURNING u.seq, u.bot_id, u.billing_attempts, u.payload::text, b.settings::text," \
	"  b.token_sealed, b.telegram_id, b.username"

/* the lanes take every kind but pre-checkout queries (those have a lane of their own,
 * so that slow Stripe calls never keep one past Telegram's 10 seconds), a chat's in
 * order: /autorecharge on, then off, is off */
/* clang-format off */
static const char claim_sql[] = CLAIM("<> 'pre_checkout_query'",
	" AND NOT EXISTS (SELECT 1 FROM tg_updates q WHERE q.bot_id = p.bot_id"
	"  AND q.chat_id = p.chat_id AND q.billing_at IS NOT NULL AND q.billing_done_at IS NULL"
	"  AND q.kind <> 'pre_checkout_query' AND q.seq < p.seq)");
/* clang-format on */
static const char claim_fast_sql[] = CLAIM("= 'pre_checkout_query'", "");

static void step_stripe(struct billingd *bd);
static void round_over(struct billingd *bd);

/* on_pass_warned - bd_pass_warn answered: its notices go out; the round is over */
static void on_pass_warned(PGresult *res, const char *err, void *arg)
{
	struct billingd *bd = arg;

	if (err)
		log_warn("time pass warnings: %s", err);
	else if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
		bd_notice_kick(bd);
	round_over(bd);
}

/* recharges_done - no recharge is due: the time passes near their end are warned of */
static void recharges_done(struct billingd *bd)
{
	tgm_pg_query(bd->ctx->db, "SELECT bd_pass_warn()", 0, NULL, on_pass_warned, bd);
}
static void tg_claim(struct billingd *bd);
static void fast_kick(struct billingd *bd);

/* round_over - nothing was due; another round if a kick came meanwhile */
static void round_over(struct billingd *bd)
{
	bd->running = false;
	if (bd->again && !bd->ctx->stopping)
		bd_work_kick(bd);
}

/* tg_kick - updates may be due: a lane looks (more start as they find work) */
static void tg_kick(struct billingd *bd)
{
	if (bd->ctx->stopping)
		return;
	if (bd->tg_lanes > 0) {
		bd->tg_again = true;
		return;
	}
	bd->tg_lanes++;
	bd->tg_again = false;
	tg_claim(bd);
}

void bd_work_kick(struct billingd *bd)
{
	bd_notice_kick(bd);
	fast_kick(bd);
	tg_kick(bd);
	if (bd->running) {
		bd->again = true;
		return;
	}
	if (bd->ctx->stopping)
		return;
	bd->running = true;
	bd->again = false;
	step_stripe(bd);
}

/* on_stripe_step - one event acted on (or none due): go on */
static void on_stripe_step(PGresult *res, const char *err, void *arg)
{
	struct billingd *bd = arg;
	int64_t bot = 0;

	if (err) {
		log_warn("stripe events: %s", err);
		round_over(bd);
		return;
	}
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		bd_recharge_step(bd, recharges_done);
		return;
	}
	log_info("stripe: %s: %s", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	if (tgm_parse_int64(PQgetvalue(res, 0, 2), &bot) && bot)
		bd_notice_kick(bd);
	if (bd->ctx->stopping)
		round_over(bd);
	else
		step_stripe(bd);
}

/* step_stripe - act on the next due Stripe event */
static void step_stripe(struct billingd *bd)
{
	tgm_pg_query(bd->ctx->db, stripe_step_sql, 0, NULL, on_stripe_step, bd);
}

/* on_claimed - a lane's claim: an update (another lane may start), or none (the lane
 * ends, unless a kick came meanwhile) */
static void on_claimed(PGresult *res, const char *err, void *arg)
{
	struct billingd *bd = arg;

	if (err || PQntuples(res) == 0 || bd->ctx->stopping) {
		if (err)
			log_warn("claiming billing updates: %s", err);
		if (!err && bd->tg_again && !bd->ctx->stopping) {
			bd->tg_again = false;
			tg_claim(bd);
			return;
		}
		bd->tg_lanes--;
		return;
	}
	if (bd->tg_lanes < TG_LANES) {
		bd->tg_lanes++;
		tg_claim(bd);
	}
	bd_tgjob_run(bd_job_new(bd, res));
}

/* tg_claim - a lane claims the next handed-over update */
static void tg_claim(struct billingd *bd)
{
	tgm_pg_query(bd->ctx->db, claim_sql, 0, NULL, on_claimed, bd);
}

/* on_fast_claimed - a pre-checkout query claimed (or none due) */
static void on_fast_claimed(PGresult *res, const char *err, void *arg)
{
	struct billingd *bd = arg;
	struct bd_job *j;

	if (err || PQntuples(res) == 0) {
		if (err)
			log_warn("claiming pre-checkout queries: %s", err);
		bd->fast_running = false;
		return;
	}
	j = bd_job_new(bd, res);
	j->fast = true;
	bd_tgjob_run(j);
}

/* fast_kick - the pre-checkout loop: one query at a time, until none is due */
static void fast_kick(struct billingd *bd)
{
	if (bd->fast_running || bd->ctx->stopping)
		return;
	bd->fast_running = true;
	tgm_pg_query(bd->ctx->db, claim_fast_sql, 0, NULL, on_fast_claimed, bd);
}

void bd_work_next(struct billingd *bd, bool fast)
{
	if (fast) {
		bd->fast_running = false;
		fast_kick(bd);
	} else if (bd->ctx->stopping) {
		bd->tg_lanes--;
	} else {
		tg_claim(bd); /* the lane goes on */
	}
}
