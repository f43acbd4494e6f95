/*
 * reply.c - what an update sends, built as the JSON array wh_finish queues: each
 * item {"chat": "<id>", "method": "...", "params": {"chat_id": <id>, ...}}; and the
 * few calls that cannot wait for the queue (a topic being set up, a button's answer),
 * made to Telegram at once.
 */
#include "webhookd/job.h"
#include "common/json.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>

void wh_reply_begin(struct wh_job *j, int64_t chat, const char *method, int64_t thread)
{
	char chat_text[24];

	snprintf(chat_text, sizeof(chat_text), "%lld", (long long)chat);
	yajl_gen_map_open(j->replies);
	tgm_jgen_kstr(j->replies, "chat", chat_text);
	tgm_jgen_kstr(j->replies, "method", method);
	tgm_jgen_key(j->replies, "params");
	yajl_gen_map_open(j->replies);
	tgm_jgen_kint(j->replies, "chat_id", chat);
	if (thread)
		tgm_jgen_kint(j->replies, "message_thread_id", thread);
}

void wh_reply_end(struct wh_job *j)
{
	yajl_gen_map_close(j->replies);
	yajl_gen_map_close(j->replies);
	j->nreplies++;
}

void wh_reply_end_bridge(struct wh_job *j, const char *bridge, int64_t user, int64_t thread)
{
	yajl_gen_map_close(j->replies);
	tgm_jgen_key(j->replies, "meta");
	yajl_gen_map_open(j->replies);
	tgm_jgen_kstr(j->replies, "bridge", bridge);
	tgm_jgen_kint(j->replies, "user", user);
	tgm_jgen_kint(j->replies, "thread", thread);
	yajl_gen_map_close(j->replies);
	yajl_gen_map_close(j->replies);
	j->nreplies++;
}

void wh_reply_end_react(struct wh_job *j, int64_t user, int64_t thread, int64_t mid)
{
	yajl_gen_map_close(j->replies);
	tgm_jgen_key(j->replies, "meta");
	yajl_gen_map_open(j->replies);
	tgm_jgen_kstr(j->replies, "bridge", "user");
	tgm_jgen_kint(j->replies, "user", user);
	tgm_jgen_kint(j->replies, "thread", thread);
	tgm_jgen_key(j->replies, "react");
	yajl_gen_map_open(j->replies);
	tgm_jgen_kint(j->replies, "chat", j->chat_id);
	tgm_jgen_kint(j->replies, "message_id", mid);
	tgm_jgen_kstr(j->replies, "emoji", WH_DELIVERED);
	yajl_gen_map_close(j->replies);
	yajl_gen_map_close(j->replies);
	yajl_gen_map_close(j->replies);
	j->nreplies++;
}

/* keyboard - reply_markup with one row of callback buttons */
static void keyboard(yajl_gen g, const char *const *labels, const char *const *data, size_t n)
{
	tgm_jgen_key(g, "reply_markup");
	yajl_gen_map_open(g);
	tgm_jgen_key(g, "inline_keyboard");
	yajl_gen_array_open(g);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		tgm_jgen_kstr(g, "text", labels[i]);
		tgm_jgen_kstr(g, "callback_data", data[i]);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

void wh_reply_text(struct wh_job *j, int64_t chat, int64_t thread, const char *text,
		   const char *const *labels, const char *const *data, size_t n)
{
	wh_reply_begin(j, chat, "sendMessage", thread);
	tgm_jgen_kstr(j->replies, "text", text);
	if (n > 0)
		keyboard(j->replies, labels, data, n);
	wh_reply_end(j);
}

void wh_reply_edit(struct wh_job *j, int64_t chat, int64_t mid, const char *text,
		   const char *const *labels, const char *const *data, size_t n)
{
	wh_reply_begin(j, chat, "editMessageText", 0);
	tgm_jgen_kint(j->replies, "message_id", mid);
	tgm_jgen_kstr(j->replies, "text", text);
	if (n > 0)
		keyboard(j->replies, labels, data, n);
	wh_reply_end(j);
}

/* wh_reply_direct_done - a direct Telegram call that only logs its failure */
void wh_reply_direct_done(const struct tgm_tg_result *r, void *arg)
{
	struct webhookd *wh = arg;

	wh->inflight--;
	if (!r->ok)
		log_warn("a forum call failed: %s", r->description ? r->description : "no answer");
}

/* wh_reply_direct - calls Telegram's method with g's JSON at once (not through the outbound
 * queue), counted in flight; frees g; cb answers */
void wh_reply_direct(struct wh_job *j, const char *method, yajl_gen g, tgm_tg_cb cb, void *arg)
{
	size_t len;
	const char *json = tgm_jgen_text(g, &len);

	j->wh->inflight++;
	tgm_tg_call(j->wh->tg, j->wh->ctx->cfg->telegram.api_url, j->bot->token, method, json, len,
		    j->wh->ctx->cfg->telegram.timeout * 1000, cb, arg);
	yajl_gen_free(g);
}

/* wh_reply_credits - a balance from a result's text as words ("1 credit", "5 credits") */
const char *wh_reply_credits(const struct wh_job *j, const char *lang, char *out, size_t n,
			     const char *value)
{
	int64_t v = 0;

	tgm_parse_int64(value, &v);
	return tgm_text_count_bot(out, n, j->bot->settings, "credits", v, lang);
}

const char *wh_say(const struct wh_job *j, const char *name)
{
	return tgm_text_bot(j->bot->settings, name, j->lang);
}

const char *wh_say_admin(const struct wh_job *j, const char *name)
{
	return tgm_text_bot(j->bot->settings, name, j->admin_lang);
}
