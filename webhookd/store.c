/*
 * store.c - Telegram updates into tg_updates, each once: (bot, update_id) is unique, so
 * a redelivery is a no-op that still answers "durable". Updates that arrive while
 * statements are in flight are gathered and stored by the next one, in one COMMIT (group
 * commit, as gatewayd accepts messages); each is answered after that COMMIT. Groups go
 * out on STORE_CONNECTIONS connections of their own (not behind the processor's claims),
 * one group in flight on each; more than one overlaps statements and the disk's flushes
 * but halves the groups (1 measured best here: docs/bench.md). A chat's
 * updates keep their arrival order in seq: a group ends before an update whose chat has
 * an update in a group in flight (it, and what gathered behind it, waits for that
 * COMMIT). Also the check that a parsed Update is one, and which chat it belongs to.
 */
#include "webhookd/webhookd.h"
#include "common/buf.h"
#include "common/dbconn.h"
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
#define STORE_CONNECTIONS 1

/* one update waiting for its COMMIT */
struct pending {
	struct pending *next;
	wh_store_cb cb;
	void *arg;
	int64_t bot_id, chat_id;
	char bot[24], upd[24], chat[24];
	char *kind, *json;
	char *err; /* its own error, when stored alone */
	bool stored;
};

struct wh_store;

/* one connection and the group in flight on it (NULL: idle) */
struct store_conn {
	struct wh_store *st;
	struct tgm_pg *pg;
	struct pending *flight;
	int ones; /* its updates being stored one by one */
};

/* the updates being stored: the groups in flight, the next one gathering meanwhile */
struct wh_store {
	struct webhookd *wh;
	struct pending *head, **tail; /* gathering */
	struct store_conn conns[STORE_CONNECTIONS];
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
	free(p->err);
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

/* group_answer - c's group is over: the next group goes to PostgreSQL first (it runs
 * while these are answered), then each update is answered (its own error first, else
 * err); the processor and forwarder are kicked when any was stored */
static void group_answer(struct store_conn *c, const char *err)
{
	struct wh_store *st = c->st;
	struct pending *list = c->flight, *next;
	bool any = false;

	c->flight = NULL;
	flush(st);
	for (; list; list = next) {
		next = list->next;
		any = any || list->stored;
		pending_answer(st->wh, list, list->err ? list->err : err);
	}
	if (any || !err) {
		wh_process_kick(st->wh);
		wh_forward_kick(st->wh);
	}
}

struct one {
	struct store_conn *c;
	struct pending *p;
};

/* on_one - one update stored alone (after its group failed); the group is over when
 * the last is */
static void on_one(PGresult *res, const char *err, void *arg)
{
	struct one *o = arg;
	struct store_conn *c = o->c;

	if (err)
		o->p->err = tgm_xstrdup(err);
	else
		o->p->stored = PQntuples(res) > 0;
	free(o);
	if (--c->ones == 0)
		group_answer(c, NULL);
}

/* store_one - one update of c's group in a statement of its own, on c's connection */
static void store_one(struct store_conn *c, struct pending *p)
{
	const char *params[5] = { p->bot, p->upd, p->chat[0] ? p->chat : NULL, p->kind, p->json };
	struct one *o = tgm_xcalloc(1, sizeof(*o));

	*o = (struct one){ c, p };
	c->ones++;
	tgm_pg_query(c->pg, store_sql, 5, params, on_one, o);
}

/* on_group - a group's statement: answer each update; when one was refused, not
 * transiently, the group is stored again update by update (it stays in flight, so its
 * chats' later updates still wait) */
static void on_group(PGresult *res, const char *err, void *arg)
{
	struct store_conn *c = arg;

	if (err && c->flight->next && !tgm_pg_transient(res)) {
		/* one bad row (e.g. JSON PostgreSQL refuses) must not fail the others */
		log_warn("storing a group of updates: %s: storing them one by one", err);
		for (struct pending *p = c->flight; p; p = p->next)
			store_one(c, p);
		return;
	}
	if (!err)
		mark_stored(c->flight, res);
	group_answer(c, err);
}

/* in_flight - an update of p's chat is in a group in flight */
static bool in_flight(const struct wh_store *st, const struct pending *p)
{
	if (p->chat_id == 0)
		return false;
	for (int i = 0; i < STORE_CONNECTIONS; i++)
		for (const struct pending *q = st->conns[i].flight; q; q = q->next)
			if (q->chat_id == p->chat_id && q->bot_id == p->bot_id)
				return true;
	return false;
}

/* take - the group for c: gathered updates from the head, up to GROUP_MAX, ending before
 * one whose chat is in flight; its columns as array texts */
static void take(struct wh_store *st, struct store_conn *c, struct tgm_buf col[5])
{
	struct pending **end = &st->head;
	int n = 0;

	while (*end && n < GROUP_MAX && !in_flight(st, *end)) {
		struct pending *p = *end;

		tgm_pgarr_add(&col[0], p->bot);
		tgm_pgarr_add(&col[1], p->upd);
		tgm_pgarr_add(&col[2], p->chat[0] ? p->chat : NULL);
		tgm_pgarr_add(&col[3], p->kind);
		tgm_pgarr_add(&col[4], p->json);
		end = &p->next;
		n++;
	}
	if (n == 0)
		return;
	c->flight = st->head;
	st->head = *end;
	*end = NULL;
	if (st->head == NULL)
		st->tail = &st->head;
}

/* flush - send what gathered, as one statement on each idle connection, while the head
 * of what gathered may go */
static void flush(struct wh_store *st)
{
	for (int i = 0; i < STORE_CONNECTIONS && st->head; i++) {
		struct store_conn *c = &st->conns[i];
		struct tgm_buf col[5];
		const char *params[5];

		if (c->flight)
			continue;
		for (int k = 0; k < 5; k++)
			tgm_buf_init(&col[k]);
		take(st, c, col);
		if (c->flight) {
			for (int k = 0; k < 5; k++) {
				tgm_pgarr_end(&col[k]);
				params[k] = col[k].p;
			}
			tgm_pg_query_prepared(c->pg, "wh_store_group", group_sql, 5, params,
					      on_group, c);
		}
		for (int k = 0; k < 5; k++)
			tgm_buf_free(&col[k]);
		if (c->flight == NULL)
			return; /* the head waits for a group in flight */
	}
}

void wh_store_free(struct webhookd *wh)
{
	if (wh->store == NULL)
		return;
	for (int i = 0; i < STORE_CONNECTIONS; i++)
		if (wh->store->conns[i].pg)
			tgm_pg_free(wh->store->conns[i].pg);
	free(wh->store); /* nothing is pending once the loop has stopped */
	wh->store = NULL;
}

/* store_new - the store and its connections, at the first update */
static struct wh_store *store_new(struct webhookd *wh)
{
	struct wh_store *st = tgm_xcalloc(1, sizeof(*st));

	st->wh = wh;
	st->tail = &st->head;
	for (int i = 0; i < STORE_CONNECTIONS; i++) {
		st->conns[i].st = st;
		st->conns[i].pg = tgm_dbconn_async(wh->ctx->base, wh->ctx->cfg, "webhookd-store",
						   TGM_DBCONN_POOLED);
	}
	return st;
}

void wh_store_checked(struct webhookd *wh, const struct wh_bot *b, int64_t update_id,
		      int64_t chat_id, const char *kind, const char *json, size_t len,
		      wh_store_cb cb, void *arg)
{
	struct pending *p = tgm_xcalloc(1, sizeof(*p));

	if (wh->store == NULL)
		wh->store = store_new(wh);
	p->cb = cb;
	p->arg = arg;
	p->bot_id = b->id;
	p->chat_id = chat_id;
	tgm_i64(p->bot, sizeof(p->bot), b->id);
	tgm_i64(p->upd, sizeof(p->upd), update_id);
	if (chat_id)
		tgm_i64(p->chat, sizeof(p->chat), chat_id);
	p->kind = tgm_xstrdup(kind);
	p->json = tgm_xstrndup(json, len); /* the text as Telegram sent it */
	*wh->store->tail = p;
	wh->store->tail = &p->next;
	wh->inflight++;
	flush(wh->store);
}

void wh_store_update(struct webhookd *wh, const struct wh_bot *b, const char *json, size_t len,
		     wh_store_cb cb, void *arg)
{
	char perr[160];
	const char *kind;
	int64_t update_id, chat_id;
	yajl_val u = tgm_json_parse(json, len, len + 1, TGM_JSON_MAX_DEPTH, perr, sizeof(perr));

	if (u == NULL ||
	    !wh_update_check(u, false, &update_id, &chat_id, &kind, perr, sizeof(perr))) {
		char msg[200];

		snprintf(msg, sizeof(msg), "malformed update: %s", perr);
		if (u)
			yajl_tree_free(u);
		cb(msg, false, arg);
		return;
	}
	wh_store_checked(wh, b, update_id, chat_id, kind, json, len, cb, arg);
	yajl_tree_free(u);
}
