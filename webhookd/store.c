/*
 * store.c - one Telegram update into tg_updates, once: (bot, update_id) is unique, so
 * a redelivery is a no-op that still answers "durable". Also the check that a parsed
 * Update is one, and which chat it belongs to (its order is kept per chat).
 */
#include "webhookd/webhookd.h"
#include "common/json.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char store_sql[] =
	"INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)"
	" VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (bot_id, update_id) DO NOTHING";

struct store {
	struct webhookd *wh;
	wh_store_cb cb;
	void *arg;
};

/* chat_of - the chat an update's order is kept in: its message's chat, else its
 * sender's private chat; 0 when it has neither */
static int64_t chat_of(yajl_val body)
{
	const char *chat_path[] = { "chat", "id", NULL };
	const char *msg_chat_path[] = { "message", "chat", "id", NULL };
	const char *from_path[] = { "from", "id", NULL };
	yajl_val v = yajl_tree_get(body, chat_path, yajl_t_number);

	if (v == NULL)
		v = yajl_tree_get(body, msg_chat_path, yajl_t_number);
	if (v == NULL)
		v = yajl_tree_get(body, from_path, yajl_t_number);
	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

bool wh_update_check(yajl_val u, bool internal, int64_t *update_id, int64_t *chat_id,
		     const char **kind, char *err, size_t errlen)
{
	if (!YAJL_IS_OBJECT(u) || !tgm_json_get_int(u, "update_id", update_id) ||
	    (*update_id < 0 && !internal)) {
		snprintf(err, errlen, "an Update is an object with a non-negative update_id");
		return false;
	}
	*kind = "unknown";
	*chat_id = 0;
	for (size_t i = 0; i < u->u.object.len; i++) {
		if (strcmp(u->u.object.keys[i], "update_id") == 0 ||
		    !YAJL_IS_OBJECT(u->u.object.values[i]))
			continue;
		*kind = u->u.object.keys[i];
		/* a pre-checkout query must be answered within 10 s: it waits for no chat */
		if (strcmp(*kind, "pre_checkout_query") != 0)
			*chat_id = chat_of(u->u.object.values[i]);
		break;
	}
	return true;
}

static void on_stored(PGresult *res, const char *err, void *arg)
{
	struct store *s = arg;

	s->wh->inflight--;
	if (err)
		s->cb(err, false, s->arg);
	else
		s->cb(NULL, strcmp(PQcmdTuples(res), "1") == 0, s->arg);
	if (!err)
		wh_process_kick(s->wh);
	free(s);
}

void wh_store_update(struct webhookd *wh, const struct wh_bot *b, const char *json, size_t len,
		     wh_store_cb cb, void *arg)
{
	char bot[24], upd[24], chat[24], perr[160];
	const char *kind, *params[5] = { bot, upd, chat, NULL, NULL };
	int64_t update_id, chat_id;
	yajl_val u = tgm_json_parse(json, len, len + 1, TGM_JSON_MAX_DEPTH, perr, sizeof(perr));
	struct store *s;

	if (u == NULL || !wh_update_check(u, false, &update_id, &chat_id, &kind, perr, sizeof(perr))) {
		char msg[200];

		snprintf(msg, sizeof(msg), "malformed update: %s", perr);
		if (u)
			yajl_tree_free(u);
		cb(msg, false, arg);
		return;
	}
	snprintf(bot, sizeof(bot), "%lld", (long long)b->id);
	snprintf(upd, sizeof(upd), "%lld", (long long)update_id);
	snprintf(chat, sizeof(chat), "%lld", (long long)chat_id);
	params[2] = chat_id ? chat : NULL;
	params[3] = kind;
	params[4] = json; /* the text as Telegram sent it */
	s = tgm_xcalloc(1, sizeof(*s));
	*s = (struct store){ wh, cb, arg };
	wh->inflight++;
	tgm_pg_query(wh->ctx->db, store_sql, 5, params, on_stored, s);
	yajl_tree_free(u); /* params were copied */
}
