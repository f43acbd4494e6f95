/*
 * poll.c - long polling for bots without a public URL: one getUpdates loop per bot.
 * A batch is stored (store.c) before the offset moves past it, and the offset is
 * kept in bots.poll_offset, so a crash re-reads at most one batch (deduplicated).
 * Errors back off (1 s doubling to 60 s); a webhook still set is deleted first; a
 * refused token stops the loop until the bot changes (a reload starts it again).
 * Long polls have their own HTTP client (a connection each) and drain does not wait
 * for them: an unanswered poll moved no offset.
 *
 * Several webhookd instances share the polling bots: before each getUpdates a poller
 * makes sure it holds its bot's advisory lock on the instance's lock connection
 * (wh->lock_pg), taking it when free. The lock is the lease: it lives as long as that
 * connection, so a webhookd that dies (or loses the connection) gives its bots up at
 * once, and another one takes each within LOCK_RETRY_MS. Telegram allows one getUpdates
 * per bot; the lock keeps the instances from answering each other's with 409.
 */
#include "webhookd/webhookd.h"
#include "common/json.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_LIMIT 100
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000
#define IDLE_PAUSE_MS 1000 /* an empty answer that came early: a server without long poll */
#define LOCK_RETRY_MS 2000 /* how often a poller whose bot another webhookd polls looks again */
#define LOCK_CLASS "7467"  /* the advisory locks' first key: "tg" */

extern const char *const wh_allowed_updates[];

static const char offset_sql[] = "UPDATE bots SET poll_offset = $2 WHERE id = $1";
/* held already (without stacking a second hold), or taken now when free */
static const char lock_sql[] =
	"SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
	" AND classid = " LOCK_CLASS " AND objid = ($1::bigint % 2147483647)::oid"
	" AND objsubid = 2 AND pid = pg_backend_pid() AND granted) THEN true"
	" ELSE pg_try_advisory_lock(" LOCK_CLASS ", ($1::bigint % 2147483647)::int) END";
/* clang-format off */
static const char unlock_sql[] =
	"SELECT pg_advisory_unlock(" LOCK_CLASS ", ($1::bigint % 2147483647)::int)";
/* clang-format on */

struct wh_poller {
	struct webhookd *wh;
	int64_t bot_id;
	struct event *timer;
	bool detached; /* its bot stopped it: free when the call in flight ends */
	bool busy;     /* a getUpdates or its stores in flight */
	int64_t offset;
	int64_t next_offset;
	int stores_left;
	bool store_failed;
	int backoff_ms;
	int64_t started_ms;
	bool locked; /* the bot's lock was ours at the last look */
	bool looked; /* there was a look */
};

static void poll_now(struct wh_poller *p);

/* schedule - the poller's next step (a look for the lock) in ms milliseconds */
static void schedule(struct wh_poller *p, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(p->timer, &tv);
}

/* poller_free - free a poller and its timer */
static void poller_free(struct wh_poller *p)
{
	event_free(p->timer);
	free(p);
}

/* settle - the call and its stores ended; free a detached poller, else go on */
static bool settle(struct wh_poller *p)
{
	p->busy = false;
	p->wh->polls--;
	if (p->detached) {
		poller_free(p);
		return false;
	}
	return true;
}

/* back_off - a poll or its stores failed (why): look again after 1 s, doubling to 60 s */
static void back_off(struct wh_poller *p, const char *why)
{
	p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_FIRST_MS;
	if (p->backoff_ms > BACKOFF_MAX_MS)
		p->backoff_ms = BACKOFF_MAX_MS;
	log_warn("bot=%lld: getUpdates: %s; again in %d ms", (long long)p->bot_id, why,
		 p->backoff_ms);
	schedule(p, p->backoff_ms);
}

/* batch_stored - every update of the answer is stored (or failed): move the offset and
 * save it, then poll again (after a pause if an empty answer came early) */
static void batch_stored(struct wh_poller *p, bool empty)
{
	char id[24], off[24];
	const char *params[2] = { id, off };
	struct wh_bot *b;

	if (!settle(p))
		return;
	if (p->store_failed) {
		back_off(p, "storing the updates failed");
		return;
	}
	p->backoff_ms = 0;
	if (p->next_offset > p->offset) {
		p->offset = p->next_offset;
		if ((b = wh_bot_find(p->wh, p->bot_id)) != NULL)
			b->poll_offset = p->offset;
		snprintf(id, sizeof(id), "%lld", (long long)p->bot_id);
		snprintf(off, sizeof(off), "%lld", (long long)p->offset);
		wh_write(p->wh, "saving a poll offset", offset_sql, 2, params);
	}
	if (empty && tgm_mono_ms() - p->started_ms < IDLE_PAUSE_MS)
		schedule(p, IDLE_PAUSE_MS);
	else
		schedule(p, 0);
}

/* on_stored - one polled update stored (err: it failed); the last one settles the batch */
static void on_stored(const char *err, bool stored, void *arg)
{
	struct wh_poller *p = arg;

	(void)stored;
	if (err) {
		log_warn("bot=%lld: storing a polled update: %s", (long long)p->bot_id, err);
		p->store_failed = true;
	}
	if (--p->stores_left == 0)
		batch_stored(p, false);
}

/* store_all - each update of the answer; the offset moves once all are stored */
static void store_all(struct wh_poller *p, yajl_val list)
{
	size_t n = list->u.array.len;
	struct wh_bot *b = wh_bot_find(p->wh, p->bot_id);
	yajl_gen g;

	p->store_failed = false;
	p->stores_left = (int)n + 1; /* +1 until every store was started */
	for (size_t i = 0; i < n && b != NULL; i++) {
		yajl_val u = list->u.array.values[i];
		int64_t id;
		const char *json;
		size_t len;

		if (tgm_json_get_int(u, "update_id", &id) && id >= p->next_offset)
			p->next_offset = id + 1;
		g = tgm_jgen_new();
		tgm_jgen_tree(g, u);
		json = tgm_jgen_text(g, &len);
		wh_store_update(p->wh, b, json, len, on_stored, p);
		yajl_gen_free(g);
	}
	if (b == NULL)
		p->stores_left = 1, p->store_failed = true;
	if (--p->stores_left == 0)
		batch_stored(p, n == 0);
}

/* on_deleted - deleteWebhook answered: poll now, or back off */
static void on_deleted(const struct tgm_tg_result *r, void *arg)
{
	struct wh_poller *p = arg;

	if (!settle(p))
		return;
	if (r->ok)
		schedule(p, 0);
	else
		back_off(p, r->description ? r->description : "deleteWebhook failed");
}

/* delete_webhook - Telegram answers getUpdates with 409 while a webhook is set: delete it */
static void delete_webhook(struct wh_poller *p, const char *token)
{
	p->busy = true;
	p->wh->polls++;
	tgm_tg_call(p->wh->tg, p->wh->ctx->cfg->telegram.api_url, token, "deleteWebhook", "{}", 2,
		    p->wh->ctx->cfg->telegram.timeout * 1000, on_deleted, p);
}

/* on_updates - getUpdates answered: store the updates; else delete a webhook in the way,
 * stop on a refused token, wait out a flood limit or back off */
static void on_updates(const struct tgm_tg_result *r, void *arg)
{
	struct wh_poller *p = arg;
	struct wh_bot *b;
	enum tgm_tg_class c = tgm_tg_classify(r);

	if (r->ok && r->result && YAJL_IS_ARRAY(r->result) && !p->detached) {
		store_all(p, r->result);
		return;
	}
	if (!settle(p))
		return;
	b = wh_bot_find(p->wh, p->bot_id);
	if (r->error_code == 409 && r->description && strstr(r->description, "webhook") && b &&
	    b->token) {
		log_info("bot=%lld: a webhook is set; deleting it to poll", (long long)p->bot_id);
		delete_webhook(p, b->token);
	} else if (c == TGM_TG_TOKEN_DEAD) {
		log_error("bot=%lld: getUpdates: the token is refused (%s); polling stops until"
			  " the bot changes",
			  (long long)p->bot_id, r->description ? r->description : "");
		if (b)
			wh_poll_stop(b); /* frees p: a reload of the bot may start polling again */
	} else if (c == TGM_TG_FLOOD && r->retry_after > 0) {
		schedule(p, r->retry_after * 1000);
	} else {
		back_off(p, r->description ? r->description : "failed");
	}
}

/* poll_now - one getUpdates from the offset, held up to [webhookd] poll_timeout seconds */
static void poll_now(struct wh_poller *p)
{
	struct wh_bot *b = wh_bot_find(p->wh, p->bot_id);
	int timeout = p->wh->ctx->cfg->webhookd.poll_timeout;
	yajl_gen g;
	const char *json;
	size_t len;

	if (b == NULL || b->token == NULL || p->wh->ctx->stopping)
		return;
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "offset", p->offset);
	tgm_jgen_kint(g, "limit", POLL_LIMIT);
	tgm_jgen_kint(g, "timeout", timeout);
	tgm_jgen_key(g, "allowed_updates");
	yajl_gen_array_open(g);
	for (size_t i = 0; wh_allowed_updates[i]; i++)
		tgm_jgen_str(g, wh_allowed_updates[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	json = tgm_jgen_text(g, &len);
	p->busy = true;
	p->started_ms = tgm_mono_ms();
	p->next_offset = p->offset;
	p->wh->polls++;
	tgm_tg_call(p->wh->tgpoll, p->wh->ctx->cfg->telegram.api_url, b->token, "getUpdates", json,
		    len, (timeout + 10) * 1000, on_updates, p);
	yajl_gen_free(g);
}

/* on_lock - whether the bot's lock is ours: poll, or look again later */
static void on_lock(PGresult *res, const char *err, void *arg)
{
	struct wh_poller *p = arg;
	bool ours = err == NULL && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';

	if (!settle(p))
		return;
	if (err)
		log_warn("bot=%lld: the polling lock: %s", (long long)p->bot_id, err);
	else if (ours != p->locked || !p->looked)
		log_info("bot=%lld: %s", (long long)p->bot_id,
			 ours ? "this webhookd polls it now"
			      : "another webhookd polls it; this one waits");
	p->locked = ours;
	p->looked = p->looked || err == NULL;
	if (ours)
		poll_now(p);
	else
		schedule(p, LOCK_RETRY_MS);
}

/* look_for_lock - make sure the bot's lock is ours before polling */
static void look_for_lock(struct wh_poller *p)
{
	char id[24];
	const char *params[1] = { id };

	if (p->wh->ctx->stopping)
		return;
	snprintf(id, sizeof(id), "%lld", (long long)p->bot_id);
	p->busy = true;
	p->wh->polls++;
	tgm_pg_query(p->wh->lock_pg, lock_sql, 1, params, on_lock, p);
}

/* on_timer - the poller's timer: look for the lock (and then poll) */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	look_for_lock(arg);
}

/* on_unlocked - a polling lock given back: only logged when it failed */
static void on_unlocked(PGresult *res, const char *err, void *arg)
{
	(void)res;
	(void)arg;
	if (err)
		log_debug("a polling lock was not given back (it goes with the connection): %s",
			  err);
}

void wh_poll_start(struct webhookd *wh, struct wh_bot *b)
{
	struct wh_poller *p;

	if (b->poller != NULL || wh->ctx->stopping)
		return;
	p = tgm_xcalloc(1, sizeof(*p));
	p->wh = wh;
	p->bot_id = b->id;
	p->offset = b->poll_offset;
	p->timer = evtimer_new(wh->ctx->base, on_timer, p);
	b->poller = p;
	log_info("bot=%lld: polling from update %lld", (long long)b->id, (long long)p->offset);
	schedule(p, 0);
}

void wh_poll_stop(struct wh_bot *b)
{
	struct wh_poller *p = b->poller;

	if (p == NULL)
		return;
	b->poller = NULL;
	evtimer_del(p->timer);
	if (p->locked) {
		char id[24];
		const char *params[1] = { id };

		snprintf(id, sizeof(id), "%lld", (long long)p->bot_id);
		tgm_pg_query(p->wh->lock_pg, unlock_sql, 1, params, on_unlocked, NULL);
	}
	if (p->busy)
		p->detached = true;
	else
		poller_free(p);
}
