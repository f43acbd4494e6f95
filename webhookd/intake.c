/*
 * intake.c - POST /telegram/{bot_id}: a Telegram webhook. The secret token header is
 * checked (constant time) before anything else; the body must be one Update; it is
 * stored once and only then answered 200, so Telegram redelivers what we did not keep.
 */
#include "webhookd/webhookd.h"
#include "common/crypto.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_HEADER "X-Telegram-Bot-Api-Secret-Token"
#define RETRY_AFTER_S "5"

/* on_stored - the update is stored (or was already): 200 to Telegram; 503 with
 * Retry-After when it could not be */
static void on_stored(const char *err, bool stored, void *arg)
{
	struct evhttp_request *req = arg;

	if (err) {
		log_warn("storing an update: %s", err);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
				  RETRY_AFTER_S);
		tgm_http_problem(req, 503, "unavailable",
				 "the update could not be stored; "
				 "send it again later",
				 NULL);
		return;
	}
	if (stored)
		tgm_http_reply(req, 200, "application/json", "{\"ok\":true}", 11);
	else
		tgm_http_reply(req, 200, "application/json", "{\"ok\":true,\"duplicate\":true}",
			       28);
}

/* secret_ok - the request carries the bot's webhook secret */
static bool secret_ok(struct evhttp_request *req, const struct wh_bot *b)
{
	const char *got = evhttp_find_header(evhttp_request_get_input_headers(req), SECRET_HEADER);

	return got != NULL && b->secret != NULL && tgm_ct_streq(got, b->secret);
}

/* store_valid - the body is one JSON Update: store it (parsed once, here); else 400 */
static void store_valid(struct webhookd *wh, const struct wh_bot *b, struct evhttp_request *req,
			const char *body, size_t len)
{
	char err[160], detail[200];
	int64_t update_id, chat_id;
	const char *kind;
	yajl_val u = tgm_json_parse(body, len, (size_t)wh->ctx->cfg->webhookd.max_body,
				    TGM_JSON_MAX_DEPTH, err, sizeof(err));

	if (u == NULL) {
		snprintf(detail, sizeof(detail), "the body is not JSON: %s", err);
		tgm_http_problem(req, 400, "malformed_json", detail, NULL);
		return;
	}
	if (!wh_update_check(u, false, &update_id, &chat_id, &kind, err, sizeof(err)))
		tgm_http_problem(req, 400, "invalid_update", err, "update_id");
	else
		wh_store_checked(wh, b, update_id, chat_id, kind, body, len, on_stored, req);
	yajl_tree_free(u);
}

void wh_telegram_intake(struct evhttp_request *req, const struct tgm_http_params *p, void *arg)
{
	struct webhookd *wh = arg;
	const char *idtext = tgm_http_param(p, "bot_id");
	int64_t id = 0;
	struct wh_bot *b = NULL;
	size_t len;
	char *body;

	if (!wh->bots_loaded) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
				  RETRY_AFTER_S);
		tgm_http_problem(req, 503, "unavailable", "starting: the bots are not loaded yet",
				 NULL);
		return;
	}
	if (tgm_parse_int64(idtext, &id) && id > 0)
		b = wh_bot_find(wh, id);
	if (b == NULL || b->deleted) {
		tgm_http_problem(req, 404, "unknown_bot", "no such bot", "bot_id");
		return;
	}
	if (!secret_ok(req, b)) {
		tgm_http_problem(req, 401, "bad_secret",
				 "the " SECRET_HEADER " header is missing"
				 " or wrong",
				 NULL);
		return;
	}
	body = tgm_http_body(req, &len);
	store_valid(wh, b, req, body, len);
	free(body);
}
