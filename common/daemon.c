/*
 * daemon.c - start-up, signals, watchdog, heartbeat and shutdown for every daemon
 * (see daemon.h). Start-up errors are one "<3>" line and exit status 1, so systemd
 * shows the reason and restarts with its own throttling.
 *
 * The heartbeat row in `daemons` (name, instance, host) tells `tgmctl status` who is
 * alive on which host; it is written before READY, refreshed every HEARTBEAT_S seconds
 * and marked stopped on a clean exit.
 */
#include "common/version.h"
#include "common/dbconn.h"
#include "common/daemon.h"
#include "common/bus.h"
#include "common/db.h"
#include "common/log.h"
#include "common/migrate.h"
#include "common/sdnotify.h"
#include "common/util.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define HEARTBEAT_S 2
#define FINAL_QUERY_MS 2000
#define IDLE_CHECK_US 10000
#define DB_WAIT_FIRST_MS 500 /* the first pause before retrying a database not reachable */
#define DB_WAIT_MAX_MS 10000 /* the longest */

static const char HEARTBEAT_SQL[] =
	"INSERT INTO daemons (name, instance, host, pid, version)"
	" VALUES ($1, $2, $3, $4::int, $5)"
	" ON CONFLICT (name, instance, host) DO UPDATE SET seen_at = now(),"
	" pid = EXCLUDED.pid, version = EXCLUDED.version, stopped_at = NULL,"
	" started_at = CASE WHEN daemons.pid = EXCLUDED.pid"
	" THEN daemons.started_at ELSE now() END";

struct daemon_run {
	struct tgm_ctx ctx;
	const char *config_path; /* NULL: the default file */
	int verbosity;
	bool check_only;
	bool started; /* start() was called */
	bool closing; /* the database connection is being closed: its errors are expected */
	char host[256];
	char pid[16];
	struct event *ev_term, *ev_int, *ev_hup, *ev_watchdog, *ev_heartbeat;
};

/* usage - the command line help of daemon d, to out */
static void usage(FILE *out, const struct tgm_daemon *d)
{
	fprintf(out,
		"usage: %s [-c FILE] [-v]... [--instance N] [--check-config]\n"
		"%s\n\n"
		"  -c, --config FILE   configuration file (default %s)\n"
		"  -v, --verbose       log more (repeat for debug)\n"
		"      --instance N    instance name, e.g. for tgm-senderd@N\n"
		"      --check-config  check the configuration and exit\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n",
		d->name, d->summary, TGM_DEFAULT_CONFIG);
}

/* parse_args - 0 to go on, otherwise the exit status + 1 */
static int parse_args(struct daemon_run *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "instance", required_argument, NULL, 'i' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			r->config_path = optarg;
			break;
		case 'v':
			r->verbosity++;
			break;
		case 'i':
			r->ctx.instance = optarg;
			break;
		case 'k':
			r->check_only = true;
			break;
		case 'h':
			usage(stdout, r->ctx.daemon);
			return 1;
		case 'V':
			printf("%s %s\n", r->ctx.daemon->name, tgm_version);
			return 1;
		default:
			usage(stderr, r->ctx.daemon);
			return 3;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", r->ctx.daemon->name,
			argv[optind]);
		return 3;
	}
	return 0;
}

/* apply_log_level - [log] level raised by each -v, up to debug */
static void apply_log_level(struct daemon_run *r)
{
	int level = r->ctx.cfg->log.level + r->verbosity;

	tgm_log_set_level(level > TGM_LOG_DEBUG ? TGM_LOG_DEBUG : level);
}

/* first_heartbeat - the row exists before READY, so `tgmctl status` lists us at once */
static void first_heartbeat(struct daemon_run *r, PGconn *c)
{
	const char *p[5] = { r->ctx.daemon->name, r->ctx.instance, r->host, r->pid, tgm_version };
	PGresult *res = PQexecParams(c, HEARTBEAT_SQL, 5, NULL, p, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		log_warn("heartbeat not recorded: %s", PQerrorMessage(c));
	PQclear(res);
}

/* worth_waiting - the error says the database cannot be reached yet (no answer, or a
 * server starting, stopping or recovering), not that it refused us for good */
static bool worth_waiting(const char *err)
{
	return strstr(err, "FATAL:") == NULL || strstr(err, "the database system is") != NULL;
}

/* connect_waiting - a connection, retried with a growing pause for [database] start_wait
 * seconds while the database cannot be reached (started before PostgreSQL, or during its
 * restart): systemd hears why in STATUS= and extends its start timeout; NULL with err
 * once the wait is over */
static PGconn *connect_waiting(struct daemon_run *r, char *err, size_t errlen)
{
	const struct tgm_config *cfg = r->ctx.cfg;
	int64_t give_up = tgm_mono_ms() + cfg->database.start_wait * 1000LL;
	int64_t pause = DB_WAIT_FIRST_MS;
	PGconn *c;

	while ((c = tgm_dbconn_sync(cfg, r->ctx.daemon->name, err, errlen)) == NULL &&
	       worth_waiting(err) && tgm_mono_ms() + pause < give_up) {
		if (pause == DB_WAIT_FIRST_MS)
			log_notice("waiting for the database (up to %ds): %s",
				   cfg->database.start_wait, err);
		tgm_sd_notifyf("STATUS=waiting for the database: %s\nEXTEND_TIMEOUT_USEC=%lld", err,
			       (long long)(pause + cfg->database.connect_timeout * 1000LL + 5000) *
				       1000);
		usleep((useconds_t)(pause * 1000));
		pause = pause * 2 < DB_WAIT_MAX_MS ? pause * 2 : DB_WAIT_MAX_MS;
	}
	if (c != NULL && pause != DB_WAIT_FIRST_MS)
		log_notice("the database is reachable");
	return c;
}

/* check_database - reachable and at the schema this build needs */
static bool check_database(struct daemon_run *r, char *err, size_t errlen)
{
	PGconn *c = connect_waiting(r, err, errlen);
	bool ok;

	if (c == NULL)
		return false;
	ok = tgm_schema_check(c, err, errlen);
	if (ok)
		first_heartbeat(r, c);
	PQfinish(c);
	return ok;
}

/* on_heartbeat_done - a heartbeat's UPDATE or upsert: warn when it failed (unless closing) */
static void on_heartbeat_done(PGresult *res, const char *err, void *arg)
{
	const struct daemon_run *r = arg;

	if (err && !r->closing)
		log_warn("heartbeat not recorded: %s", err);
}

/* heartbeat - upsert our row of daemons (seen now), or mark it stopped */
static void heartbeat(struct daemon_run *r, bool stopped)
{
	const char *p[5] = { r->ctx.daemon->name, r->ctx.instance, r->host, r->pid, tgm_version };

	if (stopped)
		tgm_pg_query(r->ctx.db,
			     "UPDATE daemons SET stopped_at = now(), seen_at = now()"
			     " WHERE name = $1 AND instance = $2 AND host = $3 AND pid = $4::int",
			     4, p, on_heartbeat_done, r);
	else
		tgm_pg_query(r->ctx.db, HEARTBEAT_SQL, 5, p, on_heartbeat_done, r);
}

/* on_heartbeat_timer - every HEARTBEAT_S seconds: a heartbeat */
static void on_heartbeat_timer(evutil_socket_t fd, short what, void *arg)
{
	heartbeat(arg, false);
}

/* on_watchdog - at half systemd's watchdog interval: tell it we are alive */
static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	tgm_sd_notify("WATCHDOG=1");
}

/* begin_stop - the first stop signal: drain (the daemon's own, or at once); a second one
 * breaks the loop now */
static void begin_stop(struct daemon_run *r)
{
	struct tgm_ctx *ctx = &r->ctx;

	if (ctx->stopping) {
		log_notice("second stop signal: exiting now");
		event_base_loopbreak(ctx->base);
		return;
	}
	ctx->stopping = true;
	tgm_sd_notify("STOPPING=1");
	log_info("stopping");
	if (ctx->daemon->drain)
		ctx->daemon->drain(ctx);
	else
		tgm_daemon_drained(ctx);
}

void tgm_daemon_drained(struct tgm_ctx *ctx)
{
	event_base_loopbreak(ctx->base);
}

/* on_idle_check - every IDLE_CHECK_US while draining: drained once no query or daemon work
 * is pending, or once the deadline passed */
static void on_idle_check(evutil_socket_t fd, short what, void *arg)
{
	struct tgm_ctx *ctx = arg;
	struct timeval tv = { 0, IDLE_CHECK_US };
	int busy = tgm_pg_pending(ctx->db) + (ctx->daemon->busy ? ctx->daemon->busy(ctx) : 0);

	if (busy == 0 || tgm_mono_ms() > ctx->drain_deadline_ms) {
		tgm_daemon_drained(ctx);
		return;
	}
	evtimer_add(ctx->ev_idle, &tv);
}

void tgm_daemon_drain_when_idle(struct tgm_ctx *ctx, int timeout_s)
{
	ctx->drain_deadline_ms = tgm_mono_ms() + timeout_s * 1000LL;
	if (ctx->ev_idle == NULL)
		ctx->ev_idle = evtimer_new(ctx->base, on_idle_check, ctx);
	on_idle_check(-1, 0, ctx);
}

/* reload - SIGHUP: read the file again; systemd hears RELOADING=1 and then READY=1
 * (Type=notify-reload's protocol), whether the new file was taken or not */
static void reload(struct daemon_run *r)
{
	char err[512];
	struct tgm_config *cfg, *old;

	tgm_sd_notifyf("RELOADING=1\nMONOTONIC_USEC=%lld", (long long)tgm_mono_ms() * 1000);
	cfg = tgm_config_load(r->config_path, err, sizeof(err));
	if (cfg == NULL) {
		log_error("reload failed, keeping the old configuration: %s", err);
		tgm_sd_notify("READY=1\nSTATUS=reload failed: kept the old configuration");
		return;
	}
	old = r->ctx.cfg;
	tgm_config_warn_unreloadable(old, cfg);
	r->ctx.cfg = cfg;
	apply_log_level(r);
	if (r->ctx.daemon->reload)
		r->ctx.daemon->reload(&r->ctx, old);
	tgm_config_free(old);
	log_info("configuration reloaded");
	tgm_sd_notifyf("READY=1\nSTATUS=%s running", r->ctx.daemon->name);
}

/* on_signal - SIGHUP reloads, SIGTERM and SIGINT stop */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	if (sig == SIGHUP)
		reload(arg);
	else
		begin_stop(arg);
}

/* add_timer - *ev: a persistent timer calling fn(r) every usec microseconds */
static void add_timer(struct daemon_run *r, struct event **ev, event_callback_fn fn, uint64_t usec)
{
	struct timeval tv = { (time_t)(usec / 1000000), (suseconds_t)(usec % 1000000) };

	*ev = event_new(r->ctx.base, -1, EV_PERSIST, fn, r);
	event_add(*ev, &tv);
}

/* setup_events - the stop and reload signals, systemd's watchdog (when asked) and the
 * heartbeat timer */
static void setup_events(struct daemon_run *r)
{
	struct event_base *base = r->ctx.base;
	uint64_t wd = tgm_sd_watchdog_usec();

	signal(SIGPIPE, SIG_IGN);
	r->ev_term = evsignal_new(base, SIGTERM, on_signal, r);
	r->ev_int = evsignal_new(base, SIGINT, on_signal, r);
	r->ev_hup = evsignal_new(base, SIGHUP, on_signal, r);
	event_add(r->ev_term, NULL);
	event_add(r->ev_int, NULL);
	event_add(r->ev_hup, NULL);
	if (wd)
		add_timer(r, &r->ev_watchdog, on_watchdog, wd / 2);
	add_timer(r, &r->ev_heartbeat, on_heartbeat_timer, HEARTBEAT_S * 1000000ULL);
}

/* late_stop - a SIGTERM or SIGINT came after the signal events were freed */
static volatile sig_atomic_t late_stop;

/* on_late_signal - during teardown, a stop signal only hurries it (never kills) */
static void on_late_signal(int sig)
{
	(void)sig;
	late_stop = 1;
}

/* free_events - free the signal and timer events, leaving on_late_signal to catch stops */
static void free_events(struct daemon_run *r)
{
	struct sigaction sa = { .sa_handler = on_late_signal };
	struct event **evs[] = { &r->ev_term, &r->ev_int, &r->ev_hup, &r->ev_watchdog,
				 &r->ev_heartbeat };

	sigset_t stops, old;

	/* freeing a signal event restores the default action, which would make a second
	 * SIGTERM during teardown kill the daemon instead of hurrying it: the stop signals
	 * wait, blocked, until on_late_signal is in place */
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigprocmask(SIG_BLOCK, &stops, &old);
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (*evs[i]) {
			event_free(*evs[i]);
			*evs[i] = NULL;
		}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* finish_queries - give the last queries (the stopped heartbeat) a moment to land */
static void finish_queries(struct daemon_run *r)
{
	int64_t deadline = tgm_mono_ms() + FINAL_QUERY_MS;

	while (tgm_pg_pending(r->ctx.db) > 0 && tgm_mono_ms() < deadline && !late_stop)
		event_base_loop(r->ctx.base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(1000);
}

/* new_base - the event loop. With epoll, changes to a descriptor's events are collected
 * and made at the next wait, one epoll_ctl for what is left of them: an HTTP keep-alive
 * connection turns from writing its answer back to reading in one call, not two (on
 * this machine a system call costs microseconds). No descriptor is dup()ed, which is
 * what that mode cannot tell apart. */
static struct event_base *new_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* raise_nofile - open files up to the hard limit: a soft limit of 1024 (a shell's
 * default, outside systemd's LimitNOFILE) would cap gatewayd's event streams and
 * senderd's connections long before memory does */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("cannot raise the open files limit to %llu",
			 (unsigned long long)rl.rlim_max);
}

/* prepare - everything before the loop; false with err on a start-up error */
static bool prepare(struct daemon_run *r, char *err, size_t errlen)
{
	struct tgm_ctx *ctx = &r->ctx;

	raise_nofile();
	ctx->has_secret_key = tgm_config_secret_key(ctx->cfg, ctx->secret_key) == 0;
	if (!ctx->has_secret_key) {
		snprintf(err, errlen,
			 "security.secret_key is not set: put 64 hex characters"
			 " (tgmctl secret-key makes them) in the configuration or a credential");
		return false;
	}
	if (!check_database(r, err, errlen))
		return false;
	ctx->base = new_base();
	ctx->db = tgm_dbconn_async(ctx->base, ctx->cfg, ctx->daemon->name, TGM_DBCONN_SESSION);
	r->started = true; /* stop() frees whatever start() made, even a part */
	if (ctx->daemon->start(ctx, err, errlen) != 0)
		return false;
	setup_events(r);
	return true;
}

/* teardown - everything after the loop (ran: it ran, so record the stop and let the last
 * queries land): free what prepare made */
static void teardown(struct daemon_run *r, bool ran)
{
	struct tgm_ctx *ctx = &r->ctx;

	free_events(r);
	if (ctx->ev_idle)
		event_free(ctx->ev_idle);
	if (ran) {
		heartbeat(r, true);
		finish_queries(r);
	}
	/* queries still pending complete (as errors) while the daemon's state exists */
	r->closing = true;
	tgm_pg_free(ctx->db);
	ctx->db = NULL;
	if (r->started)
		ctx->daemon->stop(ctx);
	tgm_bus_term();
	if (ctx->base)
		event_base_free(ctx->base);
	tgm_config_free(ctx->cfg);
	memset(ctx->secret_key, 0, sizeof(ctx->secret_key));
}

int tgm_daemon_main(int argc, char **argv, const struct tgm_daemon *d)
{
	struct daemon_run r = { .ctx = { .daemon = d, .instance = "" } };
	char err[1024];
	int rc;

	tgm_log_init();
	if ((rc = parse_args(&r, argc, argv)) != 0)
		return rc - 1;
	r.ctx.cfg = tgm_config_load(r.config_path, err, sizeof(err));
	if (r.ctx.cfg == NULL) {
		log_error("%s", err);
		return 1;
	}
	apply_log_level(&r);
	if (r.check_only) {
		tgm_config_free(r.ctx.cfg);
		return 0;
	}
	gethostname(r.host, sizeof(r.host) - 1);
	snprintf(r.pid, sizeof(r.pid), "%d", (int)getpid());
	if (!prepare(&r, err, sizeof(err))) {
		log_error("%s", err);
		tgm_sd_notifyf("STATUS=%s", err);
		teardown(&r, false);
		return 1;
	}
	tgm_sd_notifyf("READY=1\nSTATUS=%s running", d->name);
	log_info("ready version=%s instance=%s", tgm_version, r.ctx.instance);
	event_base_dispatch(r.ctx.base);
	teardown(&r, true);
	if (late_stop) /* it came while the drain ended by itself: it hurried the teardown */
		log_notice("second stop signal during the teardown: exiting now");
	log_info("stopped");
	return 0;
}
