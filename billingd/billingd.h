/*
 * billingd.h - billingd's state and the functions its files share.
 *
 * The flow: server.c starts it, bus.c and the sweep timer wake work.c's loops:
 * pending Stripe events (acted on wholly in SQL, sql/functions/bd_stripe_step.sql)
 * and auto-recharge attempts (recharge.c); Telegram updates webhookd handed over, on a
 * few lanes at once (job.c holds one; tgjob.c: commands, buttons, Stars payments;
 * checkout.c, success.c and stars.c when Stripe or Telegram must be called).
 * Whatever a step says to a user is recorded as a notice (a catalog name and its
 * arguments) in the same transaction that records the change; notice.c renders it in
 * C (render.c, say.c), queues it and rings senderd's doorbell (bd_bus_ring). The
 * database is swept on a timer, so a lost wake-up costs latency only.
 */
#ifndef BILLINGD_H
#define BILLINGD_H

#include "common/bus.h"
#include "common/daemon.h"
#include "common/httpc.h"
#include "common/stripe.h"

struct tgm_metrics;

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

struct billingd {
	struct tgm_ctx *ctx;
	struct tgm_bus *work;     /* PULL: billing work pushed by webhookd */
	struct tgm_bus *doorbell; /* PUB: receipts and invoices queued for a bot */
	struct tgm_bus *status;   /* SUB: message transitions from senderd */
	struct tgm_httpc *http;   /* Stripe and Telegram */
	struct event *ev_sweep;
	bool running;                /* a step is in flight */
	bool again;                  /* work was announced meanwhile */
	bool fast_running;           /* the pre-checkout lane has a step in flight */
	int tg_lanes;                /* Telegram update lanes running */
	bool tg_again;               /* updates were announced while lanes ran */
	int inflight;                /* HTTP calls in flight */
	bool notice_running;         /* the outbox loop has a notice in hand */
	bool notice_again;           /* notices were recorded meanwhile */
	struct tgm_metrics *metrics; /* [billingd] metrics_listen, or NULL */
};

/* bd_job - one handed-over Telegram update (tgjob.c); owned by work.c's loop */
struct bd_job {
	struct billingd *bd;
	int64_t seq, bot_id, tg_id, user_id;
	int attempts;
	yajl_val update;    /* the stored Update */
	yajl_val settings;  /* the bot's settings */
	char *token_sealed; /* bots.token_sealed */
	char *username;     /* the bot's username */
	/* checkout.c: the product being bought */
	int64_t product_id, price;
	char *currency, *label, *stripe_price, *customer, *first_name;
	bool stars;
	bool portal; /* /billing rather than a purchase */
	bool fast;   /* taken by the pre-checkout loop */
};

/* metrics.c */
int bd_metrics_start(struct billingd *bd, char *err, size_t errlen);
void bd_metrics_stop(struct billingd *bd);

/* server.c - the lifecycle hooks main.c hands to the daemon skeleton */
int bd_start(struct tgm_ctx *ctx, char *err, size_t errlen);
void bd_drain(struct tgm_ctx *ctx);
void bd_stop(struct tgm_ctx *ctx);
int bd_busy(struct tgm_ctx *ctx);

/* bus.c - bind the sockets and listen on tgm_billing (-1 and err on failure) */
int bd_bus_open(struct billingd *bd, char *err, size_t errlen);
void bd_bus_close(struct billingd *bd);
/* bd_bus_ring - tell senderd that bot_id has queued messages (0: none) */
void bd_bus_ring(struct billingd *bd, int64_t bot_id);

/* stripe.c - the Stripe client's settings; false when no secret key is set */
bool bd_stripe_conf(const struct billingd *bd, struct tgm_stripe_conf *conf);

/* work.c - something may be due: the loops look (a loop already looking looks again) */
void bd_work_kick(struct billingd *bd);
/* bd_work_next - a lane's job is over (fast: the pre-checkout lane): it goes on */
void bd_work_next(struct billingd *bd, bool fast);

/* job.c - the claimed row (seq, bot, attempts, payload, settings, token, tg id,
 * username) as a job */
struct bd_job *bd_job_new(struct billingd *bd, PGresult *res);
/* bd_job_done - the update's step is over (finished or left for later): go on */
void bd_job_done(struct bd_job *j);
/* bd_job_sql - run sql whose answer's first column is a bot whose notices to look at
 * (0: none; or "t"/"f"), then bd_job_done; what names the step in a warning */
void bd_job_sql(struct bd_job *j, const char *what, const char *sql, int n,
		const char *const *params);
/* bd_job_retry - leave the update for a later attempt after seconds */
void bd_job_retry(struct bd_job *j, int seconds, const char *why);
/* bd_job_say - tell the user the catalog's text name and finish the update with outcome */
void bd_job_say(struct bd_job *j, const char *name, const char *outcome);

/* notice.c - render and queue the notices the SQL functions recorded (billing_outbox) */
void bd_notice_kick(struct billingd *bd);

/* tgjob.c - act on a handed-over update (a command, a button, a Stars payment) */
void bd_tgjob_run(struct bd_job *j);

/* checkout.c - buy a product (ref "credits:N" or "id:N") or open the Billing Portal */
void bd_checkout(struct bd_job *j, const char *ref);
void bd_checkout_portal(struct bd_job *j);
/* bd_checkout_form - the form of a Checkout Session for a product and a customer; its
 * success page sends the user back to the bot with "/start paid_<seq>" (seq 0: plain) */
void bd_checkout_form(struct tgm_buf *f, int64_t seq, int64_t bot, const char *username,
		      int64_t user, int64_t product, const char *label, int64_t price,
		      const char *currency, const char *stripe_price, const char *customer);

/* success.c - "/start paid_<ref>": the user is back from Checkout's success page */
void bd_success(struct bd_job *j, const char *ref);

/* stars.c - answer a pre_checkout_query at once */
void bd_stars_precheckout(struct bd_job *j);

/* recharge.c - one pending auto-recharge; done(bd) when it is over */
void bd_recharge_step(struct billingd *bd, void (*done)(struct billingd *bd));

#endif
