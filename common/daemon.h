/*
 * daemon.h - the life of a tgm daemon, written once: command line, configuration,
 * logging, database and schema check, signals, sd_notify, watchdog, heartbeat, and
 * graceful stop. A daemon's main.c fills a struct tgm_daemon and calls
 * tgm_daemon_main(); its real work lives in the start/drain/stop hooks.
 *
 * Signals: TERM and INT drain (a second one stops at once), HUP reloads the
 * configuration (a bad file keeps the old one), PIPE is ignored.
 */
#ifndef TGM_DAEMON_H
#define TGM_DAEMON_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/pgasync.h"

struct tgm_daemon;

/* tgm_ctx - what every daemon hook gets; owned by daemon.c */
struct tgm_ctx {
	struct event_base *base;
	struct tgm_config *cfg; /* current configuration; replaced on reload */
	const struct tgm_daemon *daemon;
	const char *instance; /* --instance value, "" when none */
	struct tgm_pg *db;    /* the daemon's own asynchronous connection */
	unsigned char secret_key[32];
	bool has_secret_key;
	bool stopping;
	int64_t drain_deadline_ms;
	struct event *ev_idle; /* tgm_daemon_drain_when_idle's check */
	void *app;             /* the daemon's own state, set by start */
};

struct tgm_daemon {
	const char *name;    /* "gatewayd" */
	const char *summary; /* one line for --help */
	/* start - open sockets and begin work; 0 on success, else -1 with err */
	int (*start)(struct tgm_ctx *ctx, char *err, size_t errlen);
	/* reload - the configuration changed (ctx->cfg is the new one); may be NULL */
	void (*reload)(struct tgm_ctx *ctx, const struct tgm_config *old);
	/* drain - begin a graceful stop, then call tgm_daemon_drained; NULL: stop at once */
	void (*drain)(struct tgm_ctx *ctx);
	/* stop - free what start made; the loop is no longer running */
	void (*stop)(struct tgm_ctx *ctx);
	/* busy - work in flight beyond ctx->db's queries (drain waits for 0); may be NULL */
	int (*busy)(struct tgm_ctx *ctx);
};

/* tgm_daemon_main - run the daemon; returns the process exit status */
int tgm_daemon_main(int argc, char **argv, const struct tgm_daemon *d);
/* tgm_daemon_drained - the drain is complete: leave the loop */
void tgm_daemon_drained(struct tgm_ctx *ctx);
/* tgm_daemon_drain_when_idle - call tgm_daemon_drained once no query is pending
 * on ctx->db and the daemon's busy hook says 0, or after timeout_s seconds */
void tgm_daemon_drain_when_idle(struct tgm_ctx *ctx, int timeout_s);

#endif
