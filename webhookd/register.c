/*
 * register.c - a bot's intake at Telegram made what its settings want: setWebhook
 * (with the bot's own random secret_token, made once and kept sealed) when the bot is
 * loaded in webhook mode, deleteWebhook when it is disabled, deleted or switched to
 * polling, the getUpdates loop started or stopped. What was set up is written to
 * bots.intake, a failure to bots.intake_error, and failures are retried with backoff.
 */
#include "webhookd/webhookd.h"
#include "common/botset.h"
#include "common/crypto.h"
#include "common/json.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_LEN 64
#define SECRET_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000

static const char secret_sql[] =
	"UPDATE bots SET webhook_secret = coalesce(webhook_secret, $2) WHERE id = $1"
	" RETURNING webhook_secret";

static const char intake_sql[] =
	"UPDATE bots SET intake = nullif($2, ''), intake_error = $3 WHERE id = $1";

/* the updates webhookd acts on (setWebhook and getUpdates) */
const char *const wh_allowed_updates[] = {
	"message", "edited_message", "callback_query", "my_chat_member", "pre_checkout_query", NULL,
};

struct reg {
	struct webhookd *wh;
	int64_t bot_id;
	char want[16];
};

static void reconcile(struct webhookd *wh, struct wh_bot *b);

const char *wh_intake_wanted(struct webhookd *wh, const struct wh_bot *b)
{
	const char *mode = tgm_botset_str(b->settings, "updates");

	if (b->deleted || !b->enabled || b->token == NULL || strcmp(mode, "off") == 0)
		return "";
	if (strcmp(mode, "auto") == 0)
		return wh->ctx->cfg->webhookd.public_url[0] ? "webhook" : "polling";
	return mode;
}

/* save_intake - record what the bot's intake is now ("" none) and its error (NULL: none) */
static void save_intake(struct webhookd *wh, struct wh_bot *b, const char *intake,
			const char *error)
{
	char id[24];
	const char *params[3] = { id, intake, error };

	snprintf(id, sizeof(id), "%lld", (long long)b->id);
	snprintf(b->intake, sizeof(b->intake), "%s", intake);
	wh_write(wh, "saving a bot's intake", intake_sql, 3, params);
}

/* reg_done - the call ended: its bot, if still there (call reg_again when settled) */
static struct wh_bot *reg_done(struct reg *r)
{
	struct wh_bot *b = wh_bot_find(r->wh, r->bot_id);

	r->wh->inflight--;
	if (b)
		b->registering = false;
	free(r);
	return b;
}

/* reg_again - a change came while the call was in flight: reconcile once more */
static void reg_again(struct webhookd *wh, struct wh_bot *b)
{
	if (b->again && !b->registering && !wh->ctx->stopping) {
		b->again = false;
		reconcile(wh, b);
	}
}

/* failed - a call to Telegram failed: record and log why, retry after a doubling backoff */
static void failed(struct webhookd *wh, struct wh_bot *b, const char *what,
		   const struct tgm_tg_result *res)
{
	char error[300];

	snprintf(error, sizeof(error), "%s: %s", what,
		 res->description ? res->description : "failed");
	log_warn("bot=%lld: %s", (long long)b->id, error);
	b->backoff_ms = b->backoff_ms ? b->backoff_ms * 2 : BACKOFF_FIRST_MS;
	if (b->backoff_ms > BACKOFF_MAX_MS)
		b->backoff_ms = BACKOFF_MAX_MS;
	b->retry_at_ms = tgm_mono_ms() + b->backoff_ms;
	save_intake(wh, b, b->intake, error);
}

/* call - Telegram's method for b with the JSON in g (freed); cb gets a struct reg with want */
static void call(struct webhookd *wh, struct wh_bot *b, const char *method, yajl_gen g,
		 tgm_tg_cb cb, const char *want)
{
	struct reg *r = tgm_xcalloc(1, sizeof(*r));
	size_t len;
	const char *json = tgm_jgen_text(g, &len);

	r->wh = wh;
	r->bot_id = b->id;
	snprintf(r->want, sizeof(r->want), "%s", want);
	b->registering = true;
	wh->inflight++;
	tgm_tg_call(wh->tg, wh->ctx->cfg->telegram.api_url, b->token, method, json, len,
		    wh->ctx->cfg->telegram.timeout * 1000, cb, r);
	yajl_gen_free(g);
}

/* on_set - setWebhook answered: the webhook is the intake, or it failed */
static void on_set(const struct tgm_tg_result *res, void *arg)
{
	struct reg *r = arg;
	struct webhookd *wh = r->wh;
	struct wh_bot *b = reg_done(r);

	if (b == NULL)
		return;
	if (!res->ok) {
		failed(wh, b, "setWebhook", res);
	} else {
		log_info("bot=%lld: webhook set", (long long)b->id);
		b->webhook_ok = true;
		b->backoff_ms = 0;
		b->retry_at_ms = 0;
		save_intake(wh, b, "webhook", NULL);
	}
	reg_again(wh, b);
}

/* set_webhook - point the bot's webhook at public_url/telegram/<id>, with its secret_token */
static void set_webhook(struct webhookd *wh, struct wh_bot *b)
{
	yajl_gen g = tgm_jgen_new();
	const char *base = wh->ctx->cfg->webhookd.public_url;
	size_t n = strlen(base);
	char *url;

	while (n > 0 && base[n - 1] == '/')
		n--;
	url = tgm_xasprintf("%.*s/telegram/%lld", (int)n, base, (long long)b->id);
	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "url", url);
	tgm_jgen_kstr(g, "secret_token", b->secret);
	tgm_jgen_key(g, "allowed_updates");
	yajl_gen_array_open(g);
	for (size_t i = 0; wh_allowed_updates[i]; i++)
		tgm_jgen_str(g, wh_allowed_updates[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	free(url);
	call(wh, b, "setWebhook", g, on_set, "webhook");
}

/* on_secret - the secret stored (or another webhookd's kept): open it, reconcile again */
static void on_secret(PGresult *res, const char *err, void *arg)
{
	struct reg *r = arg;
	struct webhookd *wh = r->wh;
	struct wh_bot *b = reg_done(r);
	char aad[64];

	if (b == NULL)
		return;
	if (err || PQntuples(res) != 1) {
		log_warn("bot=%lld: storing its webhook secret: %s", (long long)b->id,
			 err ? err : "no such bot");
		b->retry_at_ms = tgm_mono_ms() + BACKOFF_FIRST_MS;
		return;
	}
	snprintf(aad, sizeof(aad), "bot:%lld:webhook", (long long)b->telegram_id);
	free(b->secret);
	b->secret = tgm_open(wh->ctx->secret_key, PQgetvalue(res, 0, 0), aad, NULL);
	b->again = b->again || b->secret != NULL;
	reg_again(wh, b);
}

/* make_secret - a new random secret_token, kept unless another webhookd was first */
static void make_secret(struct webhookd *wh, struct wh_bot *b)
{
	struct reg *r = tgm_xcalloc(1, sizeof(*r));
	char secret[SECRET_LEN + 1], id[24], aad[64], *sealed;
	const char *params[2] = { id, NULL };

	tgm_random_token(secret, SECRET_LEN, SECRET_ALPHABET);
	snprintf(aad, sizeof(aad), "bot:%lld:webhook", (long long)b->telegram_id);
	sealed = tgm_seal(wh->ctx->secret_key, secret, SECRET_LEN, aad);
	memset(secret, 0, sizeof(secret));
	snprintf(id, sizeof(id), "%lld", (long long)b->id);
	params[1] = sealed;
	r->wh = wh;
	r->bot_id = b->id;
	b->registering = true;
	wh->inflight++;
	tgm_pg_query(wh->ctx->db, secret_sql, 2, params, on_secret, r);
	free(sealed);
}

/* on_deleted - deleteWebhook answered (a refused token or gone bot counts as deleted):
 * record the wanted intake and start polling, or it failed */
static void on_deleted(const struct tgm_tg_result *res, void *arg)
{
	struct reg *r = arg;
	struct webhookd *wh = r->wh;
	char want[16];
	struct wh_bot *b;

	snprintf(want, sizeof(want), "%s", r->want);
	if ((b = reg_done(r)) == NULL)
		return;
	if (!res->ok && res->error_code != 401 && res->error_code != 404) {
		failed(wh, b, "deleteWebhook", res);
	} else {
		log_info("bot=%lld: webhook deleted", (long long)b->id);
		b->backoff_ms = 0;
		b->retry_at_ms = 0;
		save_intake(wh, b, want, NULL);
		if (strcmp(want, "polling") == 0 && !b->again)
			wh_poll_start(wh, b);
	}
	reg_again(wh, b);
}

/* delete_webhook - deleteWebhook for b; then: the intake wanted after it ("polling" or "") */
static void delete_webhook(struct webhookd *wh, struct wh_bot *b, const char *then)
{
	yajl_gen g = tgm_jgen_new();

	yajl_gen_map_open(g);
	yajl_gen_map_close(g);
	call(wh, b, "deleteWebhook", g, on_deleted, then);
}

/* misconfigured - webhook mode without a public URL: no intake, and the reason told
 * once (in bots.intake_error and the log) until the bot or the configuration changes */
static void misconfigured(struct webhookd *wh, struct wh_bot *b)
{
	static const char why[] = "updates=webhook needs [webhookd] public_url";

	wh_poll_stop(b);
	b->webhook_ok = false;
	if (b->intake_error_said)
		return;
	log_error("bot=%lld: %s", (long long)b->id, why);
	save_intake(wh, b, "", why);
	b->intake_error_said = true;
}

/* reconcile - the next step to the intake the bot wants (after the call in flight if any):
 * a secret, setWebhook, deleteWebhook or the poll loop, and bots.intake kept to it */
static void reconcile(struct webhookd *wh, struct wh_bot *b)
{
	const char *want = wh_intake_wanted(wh, b);

	if (b->registering) {
		b->again = true;
		return;
	}
	if (strcmp(want, "webhook") == 0 && wh->ctx->cfg->webhookd.public_url[0] == '\0') {
		misconfigured(wh, b);
		return;
	}
	b->intake_error_said = false;
	if (strcmp(want, "polling") != 0)
		wh_poll_stop(b);
	if (strcmp(want, "webhook") != 0)
		b->webhook_ok = false;
	if (strcmp(want, "webhook") == 0 && b->secret == NULL)
		make_secret(wh, b);
	else if (strcmp(want, "webhook") == 0 && !b->webhook_ok)
		set_webhook(wh, b);
	else if (strcmp(want, "webhook") != 0 && strcmp(b->intake, "webhook") == 0 && b->token)
		delete_webhook(wh, b, want);
	else if (strcmp(want, "polling") == 0 && strcmp(b->intake, "polling") != 0)
		save_intake(wh, b, "polling", NULL);
	else if (*want == '\0' && *b->intake)
		save_intake(wh, b, "", NULL);
	if (strcmp(want, "polling") == 0 && !b->registering)
		wh_poll_start(wh, b);
}

void wh_register(struct webhookd *wh, struct wh_bot *b)
{
	b->intake_error_said = false;
	b->retry_at_ms = 0;
	b->backoff_ms = 0;
	reconcile(wh, b);
}

void wh_register_due(struct webhookd *wh)
{
	int64_t now = tgm_mono_ms();

	for (size_t i = 0; i < wh->nbots; i++) {
		struct wh_bot *b = wh->bots[i];

		if (b->retry_at_ms && b->retry_at_ms <= now && !b->registering) {
			b->retry_at_ms = 0;
			reconcile(wh, b);
		}
	}
}
