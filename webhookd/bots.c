/*
 * bots.c - the bots webhookd serves, kept in memory: token and webhook secret opened,
 * settings parsed, what intake is set up. Loaded at start, read again when PostgreSQL
 * announces a change on channel tgm_bots (and all of them after a reconnect, when
 * announcements may have been missed); each load reconciles the bot's intake.
 */
#include "webhookd/webhookd.h"
#include "common/crypto.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char load_sql[] =
	"SELECT id, tenant_id, telegram_id, username, token_sealed, webhook_secret, enabled,"
	" deleted_at IS NOT NULL, settings::text, coalesce(intake, ''), poll_offset, name"
	" FROM bots WHERE ($1::bigint = 0 AND (deleted_at IS NULL OR intake IS NOT NULL))"
	" OR id = $1::bigint ORDER BY id";

struct wh_bot *wh_bot_find(struct webhookd *wh, int64_t id)
{
	size_t lo = 0, hi = wh->nbots;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (wh->bots[mid]->id == id)
			return wh->bots[mid];
		if (wh->bots[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* bot_insert - a new, empty bot in its sorted place */
static struct wh_bot *bot_insert(struct webhookd *wh, int64_t id)
{
	struct wh_bot *b = tgm_xcalloc(1, sizeof(*b));
	size_t at = 0;

	b->id = id;
	if (wh->nbots == wh->capbots) {
		wh->capbots = wh->capbots ? wh->capbots * 2 : 16;
		wh->bots = tgm_xrealloc(wh->bots, wh->capbots * sizeof(*wh->bots));
	}
	while (at < wh->nbots && wh->bots[at]->id < id)
		at++;
	memmove(wh->bots + at + 1, wh->bots + at, (wh->nbots - at) * sizeof(*wh->bots));
	wh->bots[at] = b;
	wh->nbots++;
	return b;
}

/* bot_clear_secrets - wipe and free the bot's opened token and webhook secret */
static void bot_clear_secrets(struct wh_bot *b)
{
	if (b->token)
		memset(b->token, 0, strlen(b->token));
	if (b->secret)
		memset(b->secret, 0, strlen(b->secret));
	free(b->token);
	free(b->secret);
	b->token = b->secret = NULL;
}

/* open_sealed - a sealed column opened with associated data "bot:<tg id>:<what>" */
static char *open_sealed(struct webhookd *wh, const struct wh_bot *b, const char *sealed,
			 const char *what)
{
	char aad[64];

	if (sealed == NULL || *sealed == '\0')
		return NULL;
	snprintf(aad, sizeof(aad), "bot:%lld:%s", (long long)b->telegram_id, what);
	return tgm_open(wh->ctx->secret_key, sealed, aad, NULL);
}

/* bot_fill - b from row i of load_sql: secrets opened (a new token sets the webhook
 * again), settings parsed, intake and poll offset */
static void bot_fill(struct webhookd *wh, struct wh_bot *b, PGresult *res, int i)
{
	char err[128], *token;
	const char *settings = PQgetvalue(res, i, 8);

	tgm_parse_int64(PQgetvalue(res, i, 1), &b->tenant_id);
	tgm_parse_int64(PQgetvalue(res, i, 2), &b->telegram_id);
	free(b->username);
	b->username = tgm_xstrdup(PQgetvalue(res, i, 3));
	token = open_sealed(wh, b, PQgetvalue(res, i, 4), "token");
	if (token == NULL || b->token == NULL || strcmp(token, b->token) != 0)
		b->webhook_ok = false; /* a new token: its webhook is set again */
	bot_clear_secrets(b);
	b->token = token;
	if (b->token == NULL)
		log_error("bot=%lld: its token does not open with this secret_key",
			  (long long)b->id);
	b->secret = open_sealed(wh, b, PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5),
				"webhook");
	b->enabled = PQgetvalue(res, i, 6)[0] == 't';
	b->deleted = PQgetvalue(res, i, 7)[0] == 't';
	if (b->settings)
		yajl_tree_free(b->settings);
	b->settings = tgm_json_parse(settings, strlen(settings), 1 << 20, TGM_JSON_MAX_DEPTH, err,
				     sizeof(err));
	snprintf(b->intake, sizeof(b->intake), "%s", PQgetvalue(res, i, 9));
	tgm_parse_int64(PQgetvalue(res, i, 10), &b->poll_offset);
	free(b->name);
	b->name = tgm_xstrdup(PQgetvalue(res, i, 11));
}

/* on_loaded - the bots' rows (one, or all): fill each, new ones added, and reconcile its
 * intake; an error loads them again at the next sweep */
static void on_loaded(PGresult *res, const char *err, void *arg)
{
	struct webhookd *wh = arg;

	wh->inflight--;
	if (err) {
		log_warn("loading bots: %s (again at the next sweep)", err);
		wh->bots_reload = true;
		return;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t id = 0;
		struct wh_bot *b;

		tgm_parse_int64(PQgetvalue(res, i, 0), &id);
		if ((b = wh_bot_find(wh, id)) == NULL)
			b = bot_insert(wh, id);
		bot_fill(wh, b, res, i);
		if (!wh->ctx->stopping)
			wh_register(wh, b);
	}
	wh->bots_loaded = true;
}

void wh_bot_reload(struct webhookd *wh, int64_t id)
{
	char idtext[24];
	const char *params[1] = { idtext };

	snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
	wh->inflight++;
	tgm_pg_query(wh->ctx->db, load_sql, 1, params, on_loaded, wh);
}

/* on_notify - tgm_bots: reload the bot named, or all of them after a reconnect */
static void on_notify(const char *payload, void *arg)
{
	struct webhookd *wh = arg;
	int64_t id = 0;

	if (payload == NULL || !tgm_parse_int64(payload, &id) || id <= 0)
		id = 0; /* a reconnect: anything may have changed */
	wh_bot_reload(wh, id);
}

void wh_bots_start(struct webhookd *wh)
{
	tgm_pg_listen(wh->ctx->db, "tgm_bots", on_notify, wh);
	wh_bot_reload(wh, 0);
}

void wh_bots_free(struct webhookd *wh)
{
	for (size_t i = 0; i < wh->nbots; i++) {
		struct wh_bot *b = wh->bots[i];

		wh_poll_stop(b);
		bot_clear_secrets(b);
		free(b->username);
		free(b->name);
		if (b->settings)
			yajl_tree_free(b->settings);
		free(b);
	}
	free(wh->bots);
	wh->bots = NULL;
	wh->nbots = wh->capbots = 0;
}
