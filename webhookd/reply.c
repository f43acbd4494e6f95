/*
 * reply.c - what an update sends, built as the JSON array wh_finish queues: each
 * item {"chat": "<id>", "method": "...", "params": {"chat_id": <id>, ...}}.
 */
#include "webhookd/job.h"
#include "common/json.h"

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
