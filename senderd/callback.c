/*
 * callback.c - the callback lane: delivery callbacks to apps, apart from the Telegram
 * lanes so that a slow app never slows sending. A callback row is written in the
 * transaction of a message's final transition (record.c); this lane claims due rows,
 * POSTs them signed the Standard Webhooks way, and retries on [senderd]
 * callback_schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default, as the Standard
 * Webhooks senders do: about a day) until the app answers 2xx; after the last pause's
 * attempt the row is failed, listed by GET /v1/callbacks and redelivered on request.
 *
 * Signature: webhook-id "cb_<id>", webhook-timestamp (Unix seconds),
 * webhook-signature "v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>", the
 * key being the base64 part of the tenant's "whsec_..." secret; while a rotated-out
 * secret is still valid, a second "v1,..." made with it follows, space separated, so the
 * app may switch at its pace. A claimed row is hidden from other senderds for 60 s while
 * its request is in flight.
 *
 * Callbacks go only to public addresses (checked by httpc on each resolved address at
 * connect time) unless the tenant's callback_allow_private or [senderd]
 * callback_private = allow says otherwise. They carry User-Agent: tgm/<version>; the
 * last failed attempt is logged as a warning.
 */
#include "senderd/senderd.h"
#include "senderd/backoff.h"
#include "common/crypto.h"
#include "common/httpc.h"
#include "common/log.h"
#include "common/util.h"
#include "common/version.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CB_BATCH 32
#define CB_TIMEOUT_MS 10000
#define CB_POLL_S 1

struct callback {
	struct senderd *sd;
	int64_t id;
	int64_t msg_id, bot_id; /* for the log lines */
	int attempts;
};

/* The poll runs it every second, so it is prepared (parsing and planning it were 1.4 ms
 * of PostgreSQL a second, idle); its generic plan reads every row by key
 * (test_callbacks.py). */
static const char claim_sql[] =
	"WITH c AS (SELECT id FROM callbacks WHERE status = 'pending' AND next_attempt_at <= now()"
	"  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
	" UPDATE callbacks cb SET next_attempt_at = now() + interval '60 seconds',"
	"  attempts = cb.attempts + 1 FROM c, tenants tn, messages m WHERE cb.id = c.id"
	"  AND tn.id = cb.tenant_id AND m.id = cb.message_id"
	" RETURNING cb.id, cb.url, cb.payload::text, coalesce(tn.webhook_secret, ''), cb.attempts,"
	"  tn.callback_allow_private, CASE WHEN tn.webhook_secret_previous_until > now()"
	"  THEN tn.webhook_secret_previous ELSE '' END, cb.message_id, m.bot_id";

static const char done_sql[] =
	"UPDATE callbacks SET status = CASE WHEN $2 = 'ok' THEN 'delivered'"
	"  WHEN attempts >= $4 THEN 'failed' ELSE 'pending' END,"
	" delivered_at = CASE WHEN $2 = 'ok' THEN now() END,"
	" next_attempt_at = now() + make_interval(secs => $5::bigint / 1000.0),"
	" last_error = CASE WHEN $2 = 'ok' THEN last_error ELSE $3 END WHERE id = $1";

static void callback_claim(struct senderd *sd);

/* signature - "v1,<base64 HMAC>" of signed_text under one "whsec_..." secret */
static char *signature(const char *secret, const char *signed_text)
{
	const char *b64 = strncmp(secret, "whsec_", 6) == 0 ? secret + 6 : secret;
	size_t keylen = 0;
	unsigned char *key = tgm_base64_decode(b64, &keylen), mac[TGM_SHA256_LEN];
	char *sig, *out;

	if (key == NULL) { /* not base64: use the text itself */
		key = (unsigned char *)tgm_xstrdup(secret);
		keylen = strlen(secret);
	}
	tgm_hmac_sha256(key, keylen, signed_text, strlen(signed_text), mac);
	sig = tgm_base64_encode(mac, sizeof(mac));
	out = tgm_xasprintf("v1,%s", sig);
	free(key);
	free(sig);
	return out;
}

/* sign - the webhook-signature header for id, timestamp and body: the current secret's
 * signature, then the previous one's while it is valid (previous "" when none) */
static char *sign(const char *secret, const char *previous, const char *id, const char *ts,
		  const char *body)
{
	char *signed_text = tgm_xasprintf("%s.%s.%s", id, ts, body);
	char *now = signature(secret, signed_text);
	char *old = *previous ? signature(previous, signed_text) : NULL;
	char *out = tgm_xasprintf("webhook-signature: %s%s%s", now, old ? " " : "", old ? old : "");

	free(signed_text);
	free(now);
	free(old);
	return out;
}

/* next_pause - the pause before attempt attempts + 1 on [senderd] callback_schedule,
 * with a jitter of +-10 %; -1 when attempts was the last one */
static int64_t next_pause(const struct tgm_config *cfg, int attempts)
{
	int64_t pauses[TGM_CONFIG_DURATIONS_MAX];
	int n = tgm_config_durations(cfg->senderd.callback_schedule, pauses,
				     TGM_CONFIG_DURATIONS_MAX);

	if (attempts < 1 || attempts > n)
		return -1;
	return (int64_t)((double)pauses[attempts - 1] * (0.8 + 0.2 * backoff_jitter()));
}

/* on_recorded - the outcome's UPDATE is done; a failure only means it goes again */
static void on_recorded(PGresult *res, const char *err, void *arg)
{
	if (err)
		log_warn("callback outcome not recorded (it will be sent again): %s", err);
}

/* on_answer - the app answered (or not): record the outcome, log a failure, claim more */
static void on_answer(const struct tgm_httpc_resp *r, void *arg)
{
	struct callback *cb = arg;
	struct senderd *sd = cb->sd;
	const struct tgm_config *cfg = sd->ctx->cfg;
	bool ok = r->error == NULL && r->status >= 200 && r->status < 300;
	int64_t pause = ok ? 0 : next_pause(cfg, cb->attempts);
	char id[24], why[300], max[16], delay[24];
	const char *p[5] = { id, ok ? "ok" : "error", why, max, delay };

	snprintf(id, sizeof(id), "%lld", (long long)cb->id);
	if (r->error)
		snprintf(why, sizeof(why), "%s", r->error);
	else
		snprintf(why, sizeof(why), "HTTP %ld", r->status);
	snprintf(max, sizeof(max), "%d", pause < 0 ? cb->attempts : cb->attempts + 1);
	snprintf(delay, sizeof(delay), "%lld", (long long)(pause > 0 ? pause : 0));
	tgm_pg_query(sd->claim_pg, done_sql, 5, p, on_recorded, NULL);
	if (!ok && pause < 0)
		log_warn("bot=%lld msg=%lld callback=%lld failed for good after %d attempts: %s",
			 (long long)cb->bot_id, (long long)cb->msg_id, (long long)cb->id,
			 cb->attempts, why);
	else if (!ok)
		log_info("bot=%lld msg=%lld callback=%lld attempt %d failed: %s",
			 (long long)cb->bot_id, (long long)cb->msg_id, (long long)cb->id,
			 cb->attempts, why);
	sd->callbacks_inflight--;
	free(cb);
	if (!sd->stopping)
		callback_claim(sd);
}

/* client_for - the client for row i: the public-only one unless private is allowed */
static struct tgm_httpc *client_for(struct senderd *sd, PGresult *res, int i)
{
	bool any = strcmp(sd->ctx->cfg->senderd.callback_private, "allow") == 0 ||
		   strcmp(PQgetvalue(res, i, 5), "t") == 0;

	return any ? sd->cb_httpc : sd->cb_httpc_public;
}

/* post - send row i of the claimed callbacks, signed, to its URL */
static void post(struct senderd *sd, PGresult *res, int i)
{
	struct callback *cb = tgm_xcalloc(1, sizeof(*cb));
	char id[32], ts[24], idh[48], tsh[48];
	const char *body = PQgetvalue(res, i, 2);
	char *sig;

	cb->sd = sd;
	tgm_parse_int64(PQgetvalue(res, i, 0), &cb->id);
	cb->attempts = (int)strtol(PQgetvalue(res, i, 4), NULL, 10);
	tgm_parse_int64(PQgetvalue(res, i, 7), &cb->msg_id);
	tgm_parse_int64(PQgetvalue(res, i, 8), &cb->bot_id);
	snprintf(id, sizeof(id), "cb_%lld", (long long)cb->id);
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	snprintf(idh, sizeof(idh), "webhook-id: %s", id);
	snprintf(tsh, sizeof(tsh), "webhook-timestamp: %s", ts);
	sig = sign(PQgetvalue(res, i, 3), PQgetvalue(res, i, 6), id, ts, body);
	{
		const char *headers[] = { "Content-Type: application/json", idh, tsh, sig, NULL };

		sd->callbacks_inflight++;
		tgm_httpc_request(client_for(sd, res, i), "POST", PQgetvalue(res, i, 1), headers,
				  body, strlen(body), CB_TIMEOUT_MS, on_answer, cb);
	}
	free(sig);
}

/* on_claimed - the claimed callbacks arrived: post each */
static void on_claimed(PGresult *res, const char *err, void *arg)
{
	struct senderd *sd = arg;

	sd->callbacks_claiming = false;
	if (err) {
		log_warn("callbacks not claimed: %s", err);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++)
		post(sd, res, i);
}

/* callback_claim - claim due callbacks, as many as there is room for in flight */
static void callback_claim(struct senderd *sd)
{
	char limit[16];
	const char *p[1] = { limit };
	int room = CB_BATCH - sd->callbacks_inflight;

	if (sd->callbacks_claiming || room <= 0 || sd->stopping)
		return;
	sd->callbacks_claiming = true;
	snprintf(limit, sizeof(limit), "%d", room);
	tgm_pg_query_prepared(sd->claim_pg, "callbacks", claim_sql, 1, p, on_claimed, sd);
}

void callback_wake(struct senderd *sd)
{
	callback_claim(sd);
}

/* on_poll - the poll timer: callbacks may have fallen due without a commit */
static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	callback_claim(arg);
}

void callback_start(struct senderd *sd)
{
	struct timeval tv = { CB_POLL_S, 0 };
	char agent[80];

	sd->cb_httpc = tgm_httpc_new(sd->ctx->base, 8);
	sd->cb_httpc_public = tgm_httpc_new(sd->ctx->base, 8);
	tgm_httpc_public_only(sd->cb_httpc_public);
	snprintf(agent, sizeof(agent), "tgm/%s", tgm_version);
	tgm_httpc_user_agent(sd->cb_httpc, agent);
	tgm_httpc_user_agent(sd->cb_httpc_public, agent);
	sd->ev_callbacks = event_new(sd->ctx->base, -1, EV_PERSIST, on_poll, sd);
	event_add(sd->ev_callbacks, &tv);
}

void callback_stop(struct senderd *sd)
{
	if (sd->ev_callbacks)
		event_free(sd->ev_callbacks);
	tgm_httpc_free(sd->cb_httpc);
	tgm_httpc_free(sd->cb_httpc_public);
}
