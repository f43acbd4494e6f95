/*
 * senderd.h - senderd's state: the lanes it runs (one per bot it holds a lease on)
 * and what they share (the Telegram HTTP client, the database connections, the
 * status publisher). The files of this folder:
 *
 *   main.c     start and stop only
 *   server.c   sd_start/drain/stop/busy, and ZeroMQ: doorbells in, status events out
 *   lease.c    lease_*: which bots this process may send for
 *   lane.c     lane_*: one bot's queue, limits and requests in flight
 *   ratelimit.c rl_*: sliding-window limits per bot and per chat
 *   backoff.c  backoff_*: how long to wait before another attempt
 *   claim.c    claim_*: taking due messages from the database
 *   deliver.c  deliver_*: one send to Telegram and what its answer means
 *   botanswer.c botanswer_*: Telegram's answer kept for a Bot API endpoint's message
 *   upload.c   upload_*: a message with uploaded files, sent as multipart/form-data
 *   record.c   record_*: message transitions, committed in groups
 *   callback.c callback_*: signed delivery callbacks to apps, in a lane of their own
 */
#ifndef SENDERD_H
#define SENDERD_H

#include "common/bus.h"
#include "common/daemon.h"
#include "senderd/flight.h"

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

struct lane;
struct tgm_httpc;
struct tgm_metrics;
struct record;
struct claim_group;

#define SD_LANE_BUCKETS 1024

struct senderd {
	struct tgm_ctx *ctx;
	struct tgm_bus *doorbells; /* SUB, connected to every doorbell publisher */
	struct tgm_bus *status;    /* PUB, connected to every status subscriber */
	yajl_gen status_gen;       /* the messages put on it (server.c) */
	struct tgm_httpc *httpc;   /* Telegram */
	struct tgm_pg *claim_pg;   /* callbacks' claims and outcomes */
	struct tgm_pg **lane_pgs;  /* lanes' loads, claims, returns and marks: a lane uses one */
	int nlane_pgs;
	struct claim_group *claim_groups;    /* one per lane_pgs: claims in groups (claim.c) */
	struct tgm_pg *lease_pg;             /* lease rounds and releases, never behind a claim */
	struct record *record;               /* transitions, on their own connection */
	char owner[160];                     /* this process in bot_leases.owner */
	struct lane *lanes[SD_LANE_BUCKETS]; /* by bot id, chained through lane->hnext */
	int nlanes;
	struct event *ev_lease;
	struct event *ev_sweep;
	struct event *ev_drain;
	struct tgm_httpc *cb_httpc;        /* apps' delivery callbacks, apart from Telegram */
	struct tgm_httpc *cb_httpc_public; /* the same, refusing non-public addresses */
	struct tgm_metrics *metrics;       /* [senderd] metrics_listen, or NULL */
	struct event *ev_callbacks;
	int callbacks_inflight;
	bool callbacks_claiming;
	bool stopping;
	int64_t lease_until_ms; /* our leases are surely ours until then (monotonic) */
	unsigned lease_gen;     /* round of the last lease renewal */
	bool lease_busy;        /* a lease round is in flight */
	unsigned long sent, failed, retried, flood;
	int inflight;         /* requests in flight, all lanes */
	struct flight flight; /* the caps on them, a lane's and the process's */
	struct lane *waiting; /* lanes held back by that cap, first come first served */
};

/* server.c: the lifecycle hooks (every daemon keeps them in its server.c) */
int sd_start(struct tgm_ctx *ctx, char *err, size_t errlen);
void sd_drain(struct tgm_ctx *ctx);
void sd_stop(struct tgm_ctx *ctx);
int sd_busy(struct tgm_ctx *ctx);
void sd_chat_gone(struct senderd *sd, int64_t bot_id, const char *chat);

/* lease.c */
void lease_start(struct senderd *sd);
void lease_release_all(struct senderd *sd);
/* lease_release - give up one bot (its lane has stopped) */
void lease_release(struct senderd *sd, int64_t bot_id);

/* metrics.c */
int sd_metrics_start(struct senderd *sd, char *err, size_t errlen);
void sd_metrics_stop(struct senderd *sd);

/* callback.c */
void callback_start(struct senderd *sd);
void callback_wake(struct senderd *sd);
void callback_stop(struct senderd *sd);

/* lane.c */
struct lane *lane_find(struct senderd *sd, int64_t bot_id);
/* lane_ensure - a lane for bot_id exists (made if new), marked seen in lease round gen */
void lane_ensure(struct senderd *sd, int64_t bot_id, unsigned gen);
/* lane_sweep - stop the lanes not seen in round gen (their lease is gone) */
void lane_sweep(struct senderd *sd, unsigned gen);
void lane_wake(struct lane *l);
/* lane_recorded - a group of the bot's transitions committed: wake the lane if messages
 * it passed over may be free now (LANE_HELD, lane.h) */
void lane_recorded(struct lane *l);
/* lane_settings - the bot's settings as the lease round saw them; reload if changed */
void lane_settings(struct lane *l, const char *settings);
void lane_wake_all(struct senderd *sd);
void lane_pump_all(struct senderd *sd);
int lane_inflight(const struct lane *l);
void lane_free_all(struct senderd *sd);

#endif
