/*
 * webhookd.h - webhookd's state and the functions its files share.
 *
 * The flow: an update arrives (intake.c from a webhook, poll.c from getUpdates) and is
 * stored once (store.c); the processor (process.c) claims stored updates in order per
 * chat, records their chat and user, and acts (commands.c, relay.c, admin.c); what it sends
 * goes through the outbound queue (wh_finish in SQL) and rings senderd's doorbell.
 * bots.c keeps the bots in memory (token, webhook secret, settings) and register.c
 * sets up each bot's intake at Telegram. stripe.c takes Stripe's events.
 */
#ifndef WEBHOOKD_H
#define WEBHOOKD_H

#include "common/bus.h"
#include "common/daemon.h"
#include "common/http.h"
#include "common/httpc.h"

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

struct wh_autoreply;
struct wh_group;
struct wh_forward;
struct wh_poller;

/* wh_bot - one bot as webhookd knows it (bots.c); borrowed from the registry */
struct wh_bot {
	int64_t id;
	int64_t tenant_id;
	int64_t telegram_id;
	char *username;
	char *name;        /* its name (getMe's first_name), {bot_name} in texts */
	char *token;       /* opened; NULL when it does not open */
	char *secret;      /* webhook secret_token, opened; NULL when none yet */
	yajl_val settings; /* the bot's settings object (may lack keys: see botset.h) */
	bool enabled;
	bool deleted;
	char intake[16];          /* what is set up at Telegram: "webhook", "polling" or "" */
	int64_t poll_offset;      /* next getUpdates offset */
	struct wh_poller *poller; /* poll.c's loop while polling */
	/* register.c's state */
	bool registering;    /* a call is in flight */
	bool again;          /* reconcile again when it is done */
	bool webhook_ok;     /* setWebhook succeeded in this process for this token */
	int64_t retry_at_ms; /* after a failure: when to try again (0: no retry due) */
	int backoff_ms;
	bool intake_error_said; /* a configuration error was written to intake_error */
};

struct tgm_metrics;

struct webhookd {
	struct tgm_ctx *ctx;
	struct tgm_http_server *http;
	struct tgm_bus *doorbell; /* PUB: replies queued for a bot */
	struct tgm_bus *billing;  /* PUSH: work for billingd */
	struct tgm_bus *status;   /* PUB to every gatewayd: a chat that blocked a bot */
	struct tgm_httpc *tg;     /* Telegram client for direct calls */
	struct tgm_httpc *tgpoll; /* Telegram client for long polls: a connection each */
	int polls;                /* getUpdates in flight (drain does not wait for them) */
	struct wh_bot **bots;     /* sorted by id */
	size_t nbots, capbots;
	bool bots_loaded;
	bool bots_reload;       /* a load failed: the sweep loads every bot again */
	struct event *ev_sweep; /* processing sweep, bot reload */
	bool processing;        /* a claim or an update is in flight */
	bool claiming;          /* a claim is in flight (process.c) */
	int batches;            /* claimed batches being worked (process.c) */
	bool kick_again;        /* work arrived while processing */
	int64_t walked_bot;     /* where the claims' last walk chat by chat stopped */
	int64_t walked_chat;    /* (process.c; sql/functions/wh_due.sql) */
	int walks_empty;        /* claims in a row that walked on and found nothing */
	int inflight;           /* direct Telegram calls and stores in flight */
	struct wh_store *store; /* updates being stored (store.c) */
	struct tgm_pg **pool;   /* the connections updates are processed on */
	struct tgm_pg *lock_pg; /* holds the polling locks of the bots this instance polls */
	int npool;
	struct wh_group *groups;        /* group.c: one for each connection of pool */
	struct tgm_metrics *metrics;    /* [webhookd] metrics_listen, or NULL */
	struct wh_forward *forward;     /* updates forwarded to bots' own webhooks (forward.c) */
	struct wh_autoreply *autoreply; /* each bot's auto-reply rules, cached (autoreply.c) */
};

/* metrics.c */
int wh_metrics_start(struct webhookd *wh, char *err, size_t errlen);
void wh_metrics_stop(struct webhookd *wh);

/* server.c */
int wh_start(struct tgm_ctx *ctx, char *err, size_t errlen);
void wh_drain(struct tgm_ctx *ctx);
void wh_stop(struct tgm_ctx *ctx);
/* wh_busy_hook - work in flight (drain waits for 0) */
int wh_busy_hook(struct tgm_ctx *ctx);
/* wh_ring - tell senderd that bot_id has queued work */
void wh_ring(struct webhookd *wh, int64_t bot_id);
/* wh_chat_gone - bot_id can no longer reach chat (a user blocked it, a group removed it),
 * as "chat.gone" {"bot_id","chat"} on the status stream, senderd's event of the same
 * name: every gatewayd's bot choice forgets the chat */
void wh_chat_gone(struct webhookd *wh, int64_t bot_id, int64_t chat);
/* wh_write - run a statement whose result nobody waits for; a failure is logged as
 * "<what>: <error>" (what must be a static string) */
void wh_write(struct webhookd *wh, const char *what, const char *sql, int n,
	      const char *const *params);

/* bots.c */
void wh_bots_start(struct webhookd *wh);
void wh_bots_free(struct webhookd *wh);
struct wh_bot *wh_bot_find(struct webhookd *wh, int64_t id);
/* wh_bot_reload - read one bot again (or every bot when id is 0), then reconcile */
void wh_bot_reload(struct webhookd *wh, int64_t id);

/* register.c - make a bot's intake at Telegram what its settings want */
void wh_register(struct webhookd *wh, struct wh_bot *b);
/* wh_register_due - retry the registrations that failed and whose time has come */
void wh_register_due(struct webhookd *wh);
/* wh_intake_wanted - "webhook", "polling" or "" for the bot now */
const char *wh_intake_wanted(struct webhookd *wh, const struct wh_bot *b);

/* poll.c - getUpdates loops */
void wh_poll_start(struct webhookd *wh, struct wh_bot *b);
void wh_poll_stop(struct wh_bot *b);

/* store.c - store one update (the raw JSON text of one Update object) of a bot.
 * cb gets err NULL when the update is durable (stored now or before: stored tells) */
typedef void (*wh_store_cb)(const char *err, bool stored, void *arg);
void wh_store_update(struct webhookd *wh, const struct wh_bot *b, const char *json, size_t len,
		     wh_store_cb cb, void *arg);
/* wh_store_checked - the same, for an update already parsed and checked by
 * wh_update_check (its update_id, chat_id and kind; json its text) */
void wh_store_checked(struct webhookd *wh, const struct wh_bot *b, int64_t update_id,
		      int64_t chat_id, const char *kind, const char *json, size_t len,
		      wh_store_cb cb, void *arg);
/* wh_store_free - at stop, when nothing is in flight */
void wh_store_free(struct webhookd *wh);
/* wh_update_check - a parsed Update is usable: an object with an integer update_id
 * (>= 0, or < 0 for webhookd's own when internal); fills update_id, chat_id (0: none)
 * and kind; else false with err */
bool wh_update_check(yajl_val u, bool internal, int64_t *update_id, int64_t *chat_id,
		     const char **kind, char *err, size_t errlen);

/* autoreply.c - the rules cache: LISTEN on tgm_autoreplies; free at stop; its counters
 * for /metrics */
void wh_autoreply_start(struct webhookd *wh);
void wh_autoreply_free(struct webhookd *wh);
void wh_autoreply_metrics(const struct webhookd *wh, struct evbuffer *out);

/* forward.c - stored updates POSTed to the webhooks bots set through the Bot API */
void wh_forward_start(struct webhookd *wh);
void wh_forward_free(struct webhookd *wh);
/* wh_forward_kick - updates were stored: look for those due now */
void wh_forward_kick(struct webhookd *wh);

/* intake.c - POST /telegram/{bot_id} */
void wh_telegram_intake(struct evhttp_request *req, const struct tgm_http_params *p, void *arg);
/* stripe.c - POST /stripe */
void wh_stripe_intake(struct evhttp_request *req, const struct tgm_http_params *p, void *arg);

/* group.c - the groups of statements of the processing connections (job.h): made at
 * start, freed at stop */
void wh_group_start(struct webhookd *wh);
void wh_group_free(struct webhookd *wh);

/* process.c - wake the processor: stored updates wait */
void wh_process_kick(struct webhookd *wh);
/* wh_claim_seconds - how long a claim on an update (or a topic being made) holds */
int wh_claim_seconds(const struct webhookd *wh);

/* repair.c - turn the topics' failed copies into webhookd's own updates (a lost topic,
 * a user who blocked the bot), processed in the user's order like any other */
void wh_repair_sweep(struct webhookd *wh);

#endif
