/*
 * store.c - Telegram updates into tg_updates, each once: (bot, update_id) is unique, so
 * a redelivery is a no-op that still answers "durable". Updates that arrive while a
 * statement is in flight are gathered and stored by the next one, in one COMMIT (group
 * commit, as gatewayd accepts messages); each is answered after that COMMIT. Also the
 * check that a parsed Update is one, and which chat it belongs to (its order is kept
 * per chat).
 */
#include "webhookd/webhookd.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char store_sql[] =
	"INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)"
	" VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (bot_id, update_id) DO NOTHING"
	" RETURNING bot_id, update_id";

/* a group: the rows in arrival order (seq follows it, and so each chat's order) */
static const char group_sql[] =
	"INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)"
	" SELECT b, u, c, k, p::jsonb FROM unnest($1::bigint[], $2::bigint[], $3::bigint[],"
	"  $4::text[], $5::text[]) WITH ORDINALITY AS t(b, u, c, k, p, i) ORDER BY i"
	" ON CONFLICT (bot_id, update_id) DO NOTHING RETURNING bot_id, update_id";

#define GROUP_MAX 256

/* one update waiting for its COMMIT */
struct pending {
	struct pending *next;
	wh_store_cb cb;
	void *arg;
	char bot[24], upd[24], chat[24];
	char *kind, *json;
	bool stored;
};

/* the updates being stored: one group in flight, the next one gathering meanwhile */
struct wh_store {
	struct webhookd *wh;
	struct pending *head, **tail; /* gathering */
	struct pending *flight;       /* in the statement in flight */
	bool busy;
};

static void flush(struct wh_store *st);

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

/* pending_answer - tell the caller and forget the update */
static void pending_answer(struct webhookd *wh, struct pending *p, const char *err)
{
	wh->inflight--;
	p->cb(err, p->stored, p->arg);
	free(p->kind);
	free(p->json);
	free(p);
}

/* mark_stored - the rows the statement inserted: the first pending of each key */
static void mark_stored(struct pending *list, PGresult *res)
{
	for (int r = 0; r < PQntuples(res); r++)
		for (struct pending *p = list; p; p = p->next)
			if (!p->stored && strcmp(p->bot, PQgetvalue(res, r, 0)) == 0 &&
			    strcmp(p->upd, PQgetvalue(res, r, 1)) == 0) {
				p->stored = true;
				break;
			}
}

static void store_one(struct wh_store *st, struct pending *p);

/* on_group - a group's statement: answer each update (kick the processor and forwarder);
 * one refused, not transiently, is stored again update by update; then the next group */
static void on_group(PGresult *res, const char *err, void *arg)
{
	struct wh_store *st = arg;
	struct pending *list = st->flight, *next;

	st->flight = NULL;
	st->busy = false;
	if (err && list->next && !tgm_pg_transient(res)) {
		/* one bad row (e.g. JSON PostgreSQL refuses) must not fail the others */
		log_warn("storing a group of updates: %s: storing them one by one", err);
		for (; list; list = next) {
			next = list->next;
			store_one(st, list);
		}
		flush(st);
		return;
	}
	if (!err)
		mark_stored(list, res);
	for (; list; list = next) {
		next = list->next;
		pending_answer(st->wh, list, err);
	}
	if (!err) {
		wh_process_kick(st->wh);
		wh_forward_kick(st->wh);
	}
	flush(st);
}

struct one {
	struct wh_store *st;
	struct pending *p;
};

/* on_one - one update stored alone (after its group failed): answer it */
static void on_one(PGresult *res, const char *err, void *arg)
{
	struct one *o = arg;

	if (!err)
		mark_stored(o->p, res);
	pending_answer(o->st->wh, o->p, err);
	if (!err) {
		wh_process_kick(o->st->wh);
		wh_forward_kick(o->st->wh);
	}
	free(o);
}

/* store_one - one update in a statement of its own */
static void store_one(struct wh_store *st, struct pending *p)
{
	const char *params[5] = { p->bot, p->upd, p->chat[0] ? p->chat : NULL, p->kind, p->json };
	struct one *o = tgm_xcalloc(1, sizeof(*o));

	p->next = NULL;
	*o = (struct one){ st, p };
	tgm_pg_query(st->wh->ctx->db, store_sql, 5, params, on_one, o);
}

/* flush - send what gathered, as one statement, unless a group is in flight */
static void flush(struct wh_store *st)
{
	struct tgm_buf col[5];
	const char *params[5];
	struct pending **end = &st->head;
	int n = 0;

	if (st->busy || st->head == NULL)
		return;
	for (int c = 0; c < 5; c++)
		tgm_buf_init(&col[c]);
	while (*end && n < GROUP_MAX) {
		struct pending *p = *end;

		tgm_pgarr_add(&col[0], p->bot);
		tgm_pgarr_add(&col[1], p->upd);
		tgm_pgarr_add(&col[2], p->chat[0] ? p->chat : NULL);
		tgm_pgarr_add(&col[3], p->kind);
		tgm_pgarr_add(&col[4], p->json);
		end = &p->next;
		n++;
	}
	st->flight = st->head;
	st->head = *end;
	*end = NULL;
	if (st->head == NULL)
		st->tail = &st->head;
	for (int c = 0; c < 5; c++) {
		tgm_pgarr_end(&col[c]);
		params[c] = col[c].p;
	}
	st->busy = true;
	tgm_pg_query_prepared(st->wh->ctx->db, "wh_store_group", group_sql, 5, params, on_group,
			      st);
	for (int c = 0; c < 5; c++)
		tgm_buf_free(&col[c]);
}

void wh_store_free(struct webhookd *wh)
{
	free(wh->store); /* nothing is pending once the loop has stopped */
	wh->store = NULL;
}

void wh_store_update(struct webhookd *wh, const struct wh_bot *b, const char *json, size_t len,
		     wh_store_cb cb, void *arg)
{
	char perr[160];
	const char *kind;
	int64_t update_id, chat_id;
	yajl_val u = tgm_json_parse(json, len, len + 1, TGM_JSON_MAX_DEPTH, perr, sizeof(perr));
	struct pending *p;

	if (u == NULL ||
	    !wh_update_check(u, false, &update_id, &chat_id, &kind, perr, sizeof(perr))) {
		char msg[200];

		snprintf(msg, sizeof(msg), "malformed update: %s", perr);
		if (u)
			yajl_tree_free(u);
		cb(msg, false, arg);
		return;
	}
	if (wh->store == NULL) {
		wh->store = tgm_xcalloc(1, sizeof(*wh->store));
		wh->store->wh = wh;
		wh->store->tail = &wh->store->head;
	}
	p = tgm_xcalloc(1, sizeof(*p));
	p->cb = cb;
	p->arg = arg;
	snprintf(p->bot, sizeof(p->bot), "%lld", (long long)b->id);
	snprintf(p->upd, sizeof(p->upd), "%lld", (long long)update_id);
	if (chat_id)
		snprintf(p->chat, sizeof(p->chat), "%lld", (long long)chat_id);
	p->kind = tgm_xstrdup(kind);
	p->json = tgm_xstrndup(json, len); /* the text as Telegram sent it */
	yajl_tree_free(u);
	*wh->store->tail = p;
	wh->store->tail = &p->next;
	wh->inflight++;
	flush(wh->store);
}
