/*
 * botupdates.c - the Bot API's getUpdates, answered from the updates webhookd stored
 * (tg_updates) with Telegram's semantics: offset confirms (botapi_get_updates keeps
 * it per bot, so what is confirmed never comes back), limit 1-100, allowed_updates
 * remembered, and a timeout that long-polls. tgm keeps the webhook at Telegram: its
 * own processing of each update goes on as before.
 *
 * A poll that finds nothing waits, without blocking anything, until a NOTIFY on
 * tgm_updates names its bot (a trigger on tg_updates sends it, on a connection of its
 * own here) or its timeout runs out; then it reads again. The trigger tells only the
 * bots a gatewayd watches, so a poll first holds its bot's watch (botwatch.c) and
 * reads once that is in effect. At most [gatewayd]
 * botapi_max_polls wait at once; one more gets Telegram's 429. As at Telegram, a new
 * getUpdates of a bot ends the one still waiting (for news, or for its watch) with 409
 * Conflict. Draining answers
 * the waiting polls at once with what there is (nothing).
 */
#include "gatewayd/botparams.h"
#include "gatewayd/botwatch.h"
#include "gatewayd/gatewayd.h"
#include "common/json.h"
#include "common/dbconn.h"
#include "common/log.h"
#include "common/pgasync.h"
#include "common/util.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define MAX_TIMEOUT_S 50 /* under the HTTP server's 60 s */
#define MAX_LIMIT 100

static const char get_sql[] = "SELECT botapi_get_updates($1, $2, $3, $4::text[])";

static const char conflict[] = "Conflict: terminated by other getUpdates request; make sure"
			       " that only one bot instance is running";
static const char webhook_active[] = "Conflict: can't use getUpdates method while webhook is"
				     " active; use deleteWebhook to delete the webhook first";

/* poll - one getUpdates call, from its start to its answer */
struct poll {
	struct gw_botupdates *bu;
	struct gw_req *r;
	TAILQ_ENTRY(poll) link;
	int64_t bot_id;
	char bot[24], offset[24], limit[8];
	char *allowed; /* a PostgreSQL array literal, or NULL: keep the last one */
	int timeout_s;
	struct event *ev_timeout;
	bool held;     /* it holds its bot's watch (a long poll: it may wait for news) */
	bool watching; /* it waits for that watch before its first read */
	bool busy;     /* its query is in flight */
	bool again;    /* its bot had news meanwhile: read again */
	bool parked;   /* it waits for news or its timeout */
	bool expired;  /* its timeout ran out: answer what the read finds */
	bool detached; /* gatewayd stopped with its query in flight */
};

TAILQ_HEAD(poll_list, poll);

struct gw_botupdates {
	struct gatewayd *gw;
	struct tgm_pg *pg; /* LISTEN tgm_updates; the watches */
	struct gw_botwatch *watch;
	struct poll_list polls;
	int nparked;
	bool closing;
};

static void read_updates(struct poll *p);

/* poll_free - r's data: leave the list */
static void poll_free(void *data)
{
	struct poll *p = data;

	if (!p->detached) {
		TAILQ_REMOVE(&p->bu->polls, p, link);
		if (p->parked)
			p->bu->nparked--;
		if (p->held)
			gw_botwatch_release(p->bu->watch, p->bot_id);
	}
	if (p->ev_timeout)
		event_free(p->ev_timeout);
	free(p->allowed);
	free(p);
}

/* answer - the updates found (a JSON array) as Telegram's answer */
static void answer(struct poll *p, const char *array)
{
	char *body = tgm_xasprintf("{\"ok\":true,\"result\":%s}", array);

	gw_reply_raw(p->r, 200, body);
	free(body);
}

/* on_timeout - nothing came in time: answer what a last read finds */
static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct poll *p = arg;

	p->expired = true;
	if (!p->busy)
		answer(p, "[]");
}

/* park - wait for news of the bot or the timeout */
static void park(struct poll *p)
{
	struct gw_botupdates *bu = p->bu;
	struct timeval tv = { p->timeout_s, 0 };

	if (p->parked)
		return;
	if (bu->nparked >= bu->gw->ctx->cfg->gatewayd.botapi_max_polls) {
		gw_botapi_error(p->r, 429, "Too Many Requests: retry after 1", 1);
		return;
	}
	p->parked = true;
	bu->nparked++;
	p->ev_timeout = evtimer_new(bu->gw->ctx->base, on_timeout, p);
	evtimer_add(p->ev_timeout, &tv);
}

/* on_read - botapi_get_updates: the updates found (NULL: a webhook is set, 409); answer
 * them, or, finding none with time left, read again after news or park */
static void on_read(struct gw_req *r, PGresult *res, const char *err)
{
	struct poll *p = r->data;
	const char *array;

	p->busy = false;
	if (err) {
		log_warn("botapi: getUpdates of bot=%lld: %s", (long long)p->bot_id, err);
		gw_botapi_error(r, 500, "Internal Server Error: updates could not be read", 0);
		return;
	}
	if (PQgetisnull(res, 0, 0)) {
		gw_botapi_error(r, 409, webhook_active, 0);
		return;
	}
	array = PQgetvalue(res, 0, 0);
	if (strcmp(array, "[]") != 0 || p->timeout_s == 0 || p->expired || p->detached ||
	    p->bu->closing) {
		answer(p, array);
		return;
	}
	if (p->again) {
		read_updates(p);
		return;
	}
	park(p);
}

/* read_updates - confirm, remember and read (the same call again after news) */
static void read_updates(struct poll *p)
{
	const char *params[4] = { p->bot, p->offset, p->limit, p->allowed };

	p->busy = true;
	p->again = false;
	gw_query_sql(p->r, get_sql, 4, params, on_read);
}

/* news - the bot has new updates: a parked poll reads again */
static void news(struct poll *p)
{
	if (p->busy)
		p->again = true;
	else if (p->parked)
		read_updates(p);
}

/* bot_news - the polls of bot read (again); a poll waiting for the watch reads first */
static void bot_news(int64_t bot, void *arg)
{
	struct gw_botupdates *bu = arg;
	struct poll *p, *next;

	for (p = TAILQ_FIRST(&bu->polls); p; p = next) {
		next = TAILQ_NEXT(p, link);
		if (p->bot_id != bot)
			continue;
		if (p->watching) {
			p->watching = false;
			read_updates(p);
		} else {
			news(p);
		}
	}
}

/* on_notify - a bot's new updates; NULL: the connection came back, its watches were
 * lost with the old one: each is taken again, then its polls read again */
static void on_notify(const char *payload, void *arg)
{
	struct gw_botupdates *bu = arg;
	int64_t bot = 0;

	if (payload == NULL)
		gw_botwatch_renew(bu->watch);
	else if (tgm_parse_int64(payload, &bot))
		bot_news(bot, bu);
}

/* poll_params - offset, limit (clamped to 1-100), timeout (to 0-50 s), allowed_updates */
static void poll_params(struct poll *p, yajl_val params)
{
	int64_t offset = 0, limit = MAX_LIMIT, timeout = 0;

	gw_botparams_int(params, "offset", &offset);
	gw_botparams_int(params, "limit", &limit);
	gw_botparams_int(params, "timeout", &timeout);
	if (limit < 1 || limit > MAX_LIMIT)
		limit = limit < 1 ? 1 : MAX_LIMIT;
	p->timeout_s = timeout < 0 ? 0 : timeout > MAX_TIMEOUT_S ? MAX_TIMEOUT_S : (int)timeout;
	snprintf(p->bot, sizeof(p->bot), "%lld", (long long)p->bot_id);
	snprintf(p->offset, sizeof(p->offset), "%lld", (long long)offset);
	snprintf(p->limit, sizeof(p->limit), "%d", (int)limit);
	p->allowed = gw_botparams_strings(params, "allowed_updates");
}

void gw_botupdates_get(struct gw_botupdates *bu, struct gw_req *r, int64_t bot_id)
{
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req));
	char err[200], why[260];
	yajl_val params;
	struct poll *p, *old;

	r->body_text = tgm_http_body(r->req, &r->body_len);
	params = gw_botparams_parse(q, gw_header(r, "Content-Type"), r->body_text, r->body_len, err,
				    sizeof(err));
	if (params == NULL) {
		snprintf(why, sizeof(why), "Bad Request: %s", err);
		gw_botapi_error(r, 400, why, 0);
		return;
	}
	TAILQ_FOREACH(old, &bu->polls, link)
	if (old->bot_id == bot_id && (old->parked || old->watching) && !old->busy) {
		gw_botapi_error(old->r, 409, conflict, 0);
		break;
	}
	p = tgm_xcalloc(1, sizeof(*p));
	p->bu = bu;
	p->r = r;
	p->bot_id = bot_id;
	poll_params(p, params);
	yajl_tree_free(params);
	TAILQ_INSERT_TAIL(&bu->polls, p, link);
	r->data = p;
	r->data_free = poll_free;
	p->held = p->timeout_s > 0;
	if (!p->held || gw_botwatch_hold(bu->watch, bot_id))
		read_updates(p);
	else
		p->watching = true;
}

struct gw_botupdates *gw_botupdates_new(struct gatewayd *gw)
{
	struct gw_botupdates *bu = tgm_xcalloc(1, sizeof(*bu));

	bu->gw = gw;
	TAILQ_INIT(&bu->polls);
	bu->pg = tgm_dbconn_async(gw->ctx->base, gw->ctx->cfg, "gatewayd-updates",
				  TGM_DBCONN_SESSION);
	bu->watch = gw_botwatch_new(gw->ctx->base, bu->pg, bot_news, bu);
	tgm_pg_listen(bu->pg, "tgm_updates", on_notify, bu);
	return bu;
}

int gw_botupdates_parked(const struct gw_botupdates *bu)
{
	return bu ? bu->nparked : 0;
}

void gw_botupdates_close_all(struct gw_botupdates *bu)
{
	struct poll *p, *next;

	if (bu == NULL)
		return;
	bu->closing = true;
	for (p = TAILQ_FIRST(&bu->polls); p; p = next) {
		next = TAILQ_NEXT(p, link);
		if (!p->busy)
			answer(p, "[]");
	}
}

void gw_botupdates_free(struct gw_botupdates *bu)
{
	struct poll *p;

	if (bu == NULL)
		return;
	gw_botupdates_close_all(bu);
	while ((p = TAILQ_FIRST(&bu->polls)) != NULL) { /* its query's callback answers it */
		TAILQ_REMOVE(&bu->polls, p, link);
		p->detached = true;
	}
	tgm_pg_free(bu->pg); /* before the watches: it hands their queries back */
	gw_botwatch_free(bu->watch);
	free(bu);
}
