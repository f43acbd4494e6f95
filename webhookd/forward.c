/*
 * forward.c - a bot that set a webhook of its own through the Bot API endpoint
 * (gatewayd's setWebhook, kept in botapi_updates) gets each stored update POSTed
 * there, as Telegram would: the Update object as JSON, with header
 * X-Telegram-Bot-Api-Secret-Token when the bot gave a secret_token. tgm's own
 * processing of the update is not changed by it.
 *
 * A bot's updates go one at a time in update_id order (so in order per chat): a 2xx
 * confirms the update (next_update_id moves past it) and the next one goes; anything
 * else is recorded (webhook_error_at, webhook_error: getWebhookInfo tells it) and the
 * same update is tried again after a backoff (1 s doubling to 60 s). Updates older than
 * 24 hours are no longer offered. Work is found by one query over the bots with a
 * webhook: each second, when a webhook is set (NOTIFY tgm_botapi_webhooks), and
 * after an update is stored here while some bot has a webhook. Loopback, private and
 * link-local addresses are refused unless [webhookd] forward_private = allow or the
 * tenant allows them (tenants.callback_allow_private).
 * Delivery is at least once: an update in flight when webhookd stops goes again.
 */
#include "webhookd/webhookd.h"
#include "common/buf.h"
#include "common/dbconn.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/pgasync.h"
#include "common/util.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 1000
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define FORWARD_TIMEOUT_MS 30000
#define CONNECTIONS 8

/* each bot with a webhook and its first update due (NULL: none): not the bots in flight
 * or waiting */
static const char due_sql[] =
	"SELECT s.bot_id, s.webhook_url, s.webhook_secret, u.update_id, u.payload::text,"
	" tn.callback_allow_private FROM botapi_updates s"
	" JOIN bots b ON b.id = s.bot_id AND b.deleted_at IS NULL AND b.enabled"
	" JOIN tenants tn ON tn.id = b.tenant_id AND tn.botapi_enabled"
	" LEFT JOIN LATERAL (SELECT update_id, payload FROM tg_updates u"
	"  WHERE u.bot_id = s.bot_id AND u.update_id >= s.next_update_id"
	"  AND u.received_at > now() - interval '24 hours'"
	"  AND botapi_wanted(u.kind, s.allowed_updates) ORDER BY u.update_id LIMIT 1) u ON true"
	" WHERE s.webhook_url IS NOT NULL AND s.bot_id <> ALL($1::bigint[])";

static const char confirm_sql[] =
	"UPDATE botapi_updates SET next_update_id = greatest(next_update_id, $2::bigint + 1)"
	" WHERE bot_id = $1";

static const char error_sql[] =
	"UPDATE botapi_updates SET webhook_error_at = now(), webhook_error = $2"
	" WHERE bot_id = $1 AND webhook_url = $3";

/* fw_bot - a bot whose update is in flight or waiting for its retry */
struct fw_bot {
	int64_t id;
	bool busy;
	int64_t retry_at_ms; /* 0: none */
	int backoff_ms;
};

struct wh_forward {
	struct webhookd *wh;
	struct tgm_pg *pg;           /* its queries, and LISTEN tgm_botapi_webhooks */
	struct tgm_httpc *pub, *any; /* public addresses only; any address */
	struct event *ev_tick;
	struct fw_bot *bots;
	size_t nbots, cap;
	bool looking, again, closing;
	bool webhooks; /* some bot has a webhook: a stored update may be due */
	int inflight;  /* requests and queries whose callbacks are due */
};

/* one forward: the update sent, then its outcome written */
struct fw_send {
	struct wh_forward *fw;
	int64_t bot_id, update_id;
	char *url;
	bool ok;
};

static void look(struct wh_forward *fw);

/* bot_of - the listed bot id; added when add, else NULL when it is not listed */
static struct fw_bot *bot_of(struct wh_forward *fw, int64_t id, bool add)
{
	for (size_t i = 0; i < fw->nbots; i++)
		if (fw->bots[i].id == id)
			return &fw->bots[i];
	if (!add)
		return NULL;
	if (fw->nbots == fw->cap) {
		fw->cap = fw->cap ? 2 * fw->cap : 16;
		fw->bots = tgm_xrealloc(fw->bots, fw->cap * sizeof(*fw->bots));
	}
	fw->bots[fw->nbots] = (struct fw_bot){ .id = id };
	return &fw->bots[fw->nbots++];
}

/* forget - a bot neither in flight nor waiting leaves the list */
static void forget(struct wh_forward *fw, struct fw_bot *b)
{
	if (b->busy || b->retry_at_ms)
		return;
	*b = fw->bots[--fw->nbots];
}

/* send_free - free a forward; its callback is no longer due */
static void send_free(struct fw_send *s)
{
	s->fw->inflight--;
	free(s->url);
	free(s);
}

/* on_written - the outcome is recorded: the bot's next update may go (or wait) */
static void on_written(PGresult *res, const char *err, void *arg)
{
	struct fw_send *s = arg;
	struct wh_forward *fw = s->fw;
	struct fw_bot *b = fw->closing ? NULL : bot_of(fw, s->bot_id, false);

	if (err && !fw->closing)
		log_warn("forward: bot=%lld update %lld: outcome not recorded: %s",
			 (long long)s->bot_id, (long long)s->update_id, err);
	if (b) {
		b->busy = false;
		forget(fw, b);
	}
	send_free(s);
	if (!fw->closing)
		look(fw);
}

/* on_sent - the bot's webhook answered (or not) */
static void on_sent(const struct tgm_httpc_resp *resp, void *arg)
{
	struct fw_send *s = arg;
	struct wh_forward *fw = s->fw;
	struct fw_bot *b;
	char bot[24], upd[24], why[300];
	const char *p[3] = { bot, upd, s->url };

	if (fw->closing) {
		send_free(s);
		return;
	}
	b = bot_of(fw, s->bot_id, true);
	snprintf(bot, sizeof(bot), "%lld", (long long)s->bot_id);
	snprintf(upd, sizeof(upd), "%lld", (long long)s->update_id);
	if (resp->error == NULL && resp->status >= 200 && resp->status < 300) {
		b->backoff_ms = 0;
		b->retry_at_ms = 0;
		tgm_pg_query(fw->pg, confirm_sql, 2, p, on_written, s);
		return;
	}
	if (resp->error)
		snprintf(why, sizeof(why), "%s", resp->error);
	else
		snprintf(why, sizeof(why), "Wrong response from the webhook: %ld", resp->status);
	b->backoff_ms = b->backoff_ms ? b->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (b->backoff_ms > BACKOFF_MAX_MS)
		b->backoff_ms = BACKOFF_MAX_MS;
	b->retry_at_ms = tgm_mono_ms() + b->backoff_ms;
	log_info("forward: bot=%lld update %lld: %s; again in %d ms", (long long)s->bot_id,
		 (long long)s->update_id, why, b->backoff_ms);
	upd[0] = '\0';
	p[1] = why;
	tgm_pg_query(fw->pg, error_sql, 3, p, on_written, s);
}

/* forward - POST row i's update to its bot's webhook */
static void forward(struct wh_forward *fw, PGresult *res, int i)
{
	struct fw_send *s = tgm_xcalloc(1, sizeof(*s));
	bool any = PQgetvalue(res, i, 5)[0] == 't' ||
		   strcmp(fw->wh->ctx->cfg->webhookd.forward_private, "allow") == 0;
	const char *headers[3] = { "Content-Type: application/json", NULL, NULL };
	char *secret = NULL, *header = NULL, aad[64];

	s->fw = fw;
	tgm_parse_int64(PQgetvalue(res, i, 0), &s->bot_id);
	tgm_parse_int64(PQgetvalue(res, i, 3), &s->update_id);
	s->url = tgm_xstrdup(PQgetvalue(res, i, 1));
	bot_of(fw, s->bot_id, true)->busy = true;
	if (!PQgetisnull(res, i, 2)) {
		snprintf(aad, sizeof(aad), "bot:%lld:botapi_webhook", (long long)s->bot_id);
		secret = tgm_open(fw->wh->ctx->secret_key, PQgetvalue(res, i, 2), aad, NULL);
		if (secret) {
			header = tgm_xasprintf("X-Telegram-Bot-Api-Secret-Token: %s", secret);
			headers[1] = header;
		} else {
			log_error("forward: bot=%lld: its webhook secret does not open",
				  (long long)s->bot_id);
		}
	}
	fw->inflight++;
	tgm_httpc_request(any ? fw->any : fw->pub, "POST", s->url, headers, PQgetvalue(res, i, 4),
			  (size_t)PQgetlength(res, i, 4), FORWARD_TIMEOUT_MS, on_sent, s);
	free(header);
	free(secret);
}

/* on_due - each bot with a webhook and its first update due: POST those not in flight or
 * waiting (a bot's retry waits for its timer); look again if asked meanwhile */
static void on_due(PGresult *res, const char *err, void *arg)
{
	struct wh_forward *fw = arg;

	fw->looking = false;
	fw->inflight--;
	if (fw->closing)
		return;
	if (err)
		log_warn("forward: updates due not read: %s", err);
	else
		fw->webhooks = PQntuples(res) > 0 || fw->nbots > 0;
	for (int i = 0; !err && i < PQntuples(res); i++) {
		int64_t id = 0;
		struct fw_bot *b;

		tgm_parse_int64(PQgetvalue(res, i, 0), &id);
		b = bot_of(fw, id, false);
		if (PQgetisnull(res, i, 3))
			continue;
		if (b == NULL || (!b->busy && b->retry_at_ms == 0))
			forward(fw, res, i);
	}
	if (fw->again) {
		fw->again = false;
		look(fw);
	}
}

/* look - find the updates due: every bot but those in flight or waiting for a retry */
static void look(struct wh_forward *fw)
{
	struct tgm_buf skip;
	char num[24];
	const char *p[1];
	int64_t now = tgm_mono_ms();

	if (fw->looking) {
		fw->again = true;
		return;
	}
	tgm_buf_init(&skip);
	for (size_t i = 0; i < fw->nbots; i++) {
		struct fw_bot *b = &fw->bots[i];

		if (!b->busy && b->retry_at_ms && b->retry_at_ms <= now)
			b->retry_at_ms = 0;
		snprintf(num, sizeof(num), "%lld", (long long)b->id);
		if (b->busy || b->retry_at_ms)
			tgm_pgarr_add(&skip, num);
	}
	tgm_pgarr_end(&skip);
	p[0] = skip.p;
	fw->looking = true;
	fw->inflight++;
	tgm_pg_query(fw->pg, due_sql, 1, p, on_due, fw);
	tgm_buf_free(&skip);
}

/* on_tick - every TICK_MS: bots whose retry fell due leave the list, then look */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct wh_forward *fw = arg;

	for (size_t i = 0; i < fw->nbots;) { /* retries that are due come back */
		struct fw_bot *b = &fw->bots[i];

		if (!b->busy && b->retry_at_ms && b->retry_at_ms <= tgm_mono_ms()) {
			b->retry_at_ms = 0;
			forget(fw, b);
			continue;
		}
		i++;
	}
	look(fw);
}

/* on_webhook - a bot's webhook was set: try it at once, without waiting a backoff */
static void on_webhook(const char *payload, void *arg)
{
	struct wh_forward *fw = arg;
	int64_t id = 0;
	struct fw_bot *b;

	if (payload && tgm_parse_int64(payload, &id) && (b = bot_of(fw, id, false)) && !b->busy) {
		b->retry_at_ms = 0;
		b->backoff_ms = 0;
		forget(fw, b);
	}
	look(fw);
}

void wh_forward_kick(struct webhookd *wh)
{
	if (wh->forward && !wh->forward->closing && wh->forward->webhooks)
		look(wh->forward);
}

void wh_forward_start(struct webhookd *wh)
{
	struct wh_forward *fw = tgm_xcalloc(1, sizeof(*fw));
	struct timeval tv = { TICK_MS / 1000, (TICK_MS % 1000) * 1000 };

	fw->wh = wh;
	fw->pg = tgm_dbconn_async(wh->ctx->base, wh->ctx->cfg, "webhookd-forward",
				  TGM_DBCONN_SESSION);
	tgm_pg_listen(fw->pg, "tgm_botapi_webhooks", on_webhook, fw);
	fw->pub = tgm_httpc_new(wh->ctx->base, CONNECTIONS);
	tgm_httpc_public_only(fw->pub);
	fw->any = tgm_httpc_new(wh->ctx->base, CONNECTIONS);
	fw->ev_tick = event_new(wh->ctx->base, -1, EV_PERSIST, on_tick, fw);
	event_add(fw->ev_tick, &tv);
	wh->forward = fw;
}

void wh_forward_free(struct webhookd *wh)
{
	struct wh_forward *fw = wh->forward;

	if (fw == NULL)
		return;
	fw->closing = true;
	event_free(fw->ev_tick);
	tgm_httpc_free(fw->pub); /* the callbacks run now and only let go */
	tgm_httpc_free(fw->any);
	tgm_pg_free(fw->pg);
	free(fw->bots);
	free(fw);
	wh->forward = NULL;
}
