/*
 * botwatch.c - the bots whose getUpdates polls this gatewayd waits for. Updates are
 * told (NOTIFY tgm_updates) only for a bot a gatewayd watches: a watch is a shared
 * advisory lock on the bot's key, held on the LISTEN connection (botapi_watch), and
 * the trigger on tg_updates notifies only when it finds the key held
 * (sql/functions/botapi_watch.sql). A poll reads only once its bot's watch is in
 * effect: an update stored before then is seen by that read (the watch waited for its
 * COMMIT), one stored after is told. A watch outlives its last poll by LINGER_MS, so a
 * bot that polls in a loop takes it once; the lock ends with the session, so a remade
 * connection takes every watch still needed again.
 */
#include "gatewayd/botwatch.h"
#include "common/log.h"
#include "common/pgasync.h"
#include "common/util.h"

#include <stdlib.h>
#include <sys/queue.h>

#define LINGER_MS 60000

enum watch_state {
	W_NONE,  /* not held (never taken, failed, or its session ended) */
	W_ASKED, /* botapi_watch in flight */
	W_HELD   /* held on session */
};

/* one bot's watch */
struct watch {
	TAILQ_ENTRY(watch) link;
	struct gw_botwatch *w;
	int64_t bot_id;
	int holds;       /* polls of the bot */
	int64_t idle_ms; /* monotonic: when the last poll ended */
	unsigned long session;
	enum watch_state state;
};

TAILQ_HEAD(watch_list, watch);

struct gw_botwatch {
	struct tgm_pg *pg;
	gw_botwatch_ready ready;
	void *arg;
	struct watch_list watches;
	struct event *ev_sweep;
};

static const char watch_sql[] = "SELECT botapi_watch($1)";
static const char unwatch_sql[] = "SELECT botapi_unwatch($1)";

/* on_watch - botapi_watch answered: the watch is in effect (or not); its polls read */
static void on_watch(PGresult *res, const char *err, void *arg)
{
	struct watch *x = arg;

	(void)res;
	if (err) {
		log_warn("botapi: watching the updates of bot=%lld: %s", (long long)x->bot_id, err);
		x->state = W_NONE;
	} else {
		x->state = W_HELD;
		x->session = tgm_pg_session(x->w->pg);
	}
	x->w->ready(x->bot_id, x->w->arg);
}

/* ask - take x's lock on the connection */
static void ask(struct watch *x)
{
	char bot[24];
	const char *params[1] = { bot };

	tgm_i64(bot, sizeof(bot), x->bot_id);
	x->state = W_ASKED;
	tgm_pg_query(x->w->pg, watch_sql, 1, params, on_watch, x);
}

/* on_unwatched - botapi_unwatch answered (its lock is gone with its session anyway) */
static void on_unwatched(PGresult *res, const char *err, void *arg)
{
	(void)res;
	(void)arg;
	if (err)
		log_info("botapi: ending a watch of updates: %s", err);
}

/* drop - forget x, its lock given back when its session still holds it */
static void drop(struct watch *x)
{
	struct gw_botwatch *w = x->w;

	if (x->state == W_HELD && x->session == tgm_pg_session(w->pg)) {
		char bot[24];
		const char *params[1] = { bot };

		tgm_i64(bot, sizeof(bot), x->bot_id);
		tgm_pg_query(w->pg, unwatch_sql, 1, params, on_unwatched, NULL);
	}
	TAILQ_REMOVE(&w->watches, x, link);
	free(x);
}

/* on_sweep - watches without polls for LINGER_MS end (one asked for stays: its
 * callback is still to come) */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct gw_botwatch *w = arg;
	struct watch *x, *next;
	int64_t now = tgm_mono_ms();

	(void)fd;
	(void)what;
	for (x = TAILQ_FIRST(&w->watches); x; x = next) {
		next = TAILQ_NEXT(x, link);
		if (x->holds == 0 && x->state != W_ASKED && now - x->idle_ms >= LINGER_MS)
			drop(x);
	}
}

/* find - the watch of bot_id, or NULL */
static struct watch *find(struct gw_botwatch *w, int64_t bot_id)
{
	struct watch *x;

	TAILQ_FOREACH(x, &w->watches, link)
	if (x->bot_id == bot_id)
		return x;
	return NULL;
}

bool gw_botwatch_hold(struct gw_botwatch *w, int64_t bot_id)
{
	struct watch *x = find(w, bot_id);

	if (x == NULL) {
		x = tgm_xcalloc(1, sizeof(*x));
		x->w = w;
		x->bot_id = bot_id;
		TAILQ_INSERT_TAIL(&w->watches, x, link);
	}
	x->holds++;
	if (x->state == W_HELD && x->session == tgm_pg_session(w->pg))
		return true;
	if (x->state != W_ASKED)
		ask(x);
	return false;
}

void gw_botwatch_release(struct gw_botwatch *w, int64_t bot_id)
{
	struct watch *x = find(w, bot_id);

	if (x && --x->holds == 0)
		x->idle_ms = tgm_mono_ms();
}

void gw_botwatch_renew(struct gw_botwatch *w)
{
	struct watch *x, *next;

	for (x = TAILQ_FIRST(&w->watches); x; x = next) {
		next = TAILQ_NEXT(x, link);
		if (x->state == W_ASKED)
			continue; /* queued behind LISTEN on the new session */
		x->state = W_NONE;
		if (x->holds > 0)
			ask(x);
		else
			drop(x);
	}
}

struct gw_botwatch *gw_botwatch_new(struct event_base *base, struct tgm_pg *pg,
				    gw_botwatch_ready ready, void *arg)
{
	struct gw_botwatch *w = tgm_xcalloc(1, sizeof(*w));
	struct timeval tv = { LINGER_MS / 2000, 0 };

	w->pg = pg;
	w->ready = ready;
	w->arg = arg;
	TAILQ_INIT(&w->watches);
	w->ev_sweep = event_new(base, -1, EV_PERSIST, on_sweep, w);
	event_add(w->ev_sweep, &tv);
	return w;
}

void gw_botwatch_free(struct gw_botwatch *w)
{
	struct watch *x;

	if (w == NULL)
		return;
	while ((x = TAILQ_FIRST(&w->watches)) != NULL) {
		TAILQ_REMOVE(&w->watches, x, link);
		free(x);
	}
	event_free(w->ev_sweep);
	free(w);
}
