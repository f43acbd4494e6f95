/*
 * botsend.c - the Bot API's sending methods (sendMessage ... editMessage*): the call
 * becomes a tgm message at high priority (marked botapi, its files in botapi_files),
 * queued and paced by senderd like any other, and the HTTP answer waits for its
 * outcome: Telegram's own answer as senderd kept it (botapi_answers), status and body.
 *
 * The outcome is heard from senderd's "msg.<status>" publications; a poll each second
 * catches one that was missed. When [gatewayd] botapi_wait runs out, the message is
 * canceled if it is still queued or retrying (one UPDATE: senderd's claim and the
 * cancel cannot both take it) and the client gets Telegram's 429 with retry_after, so
 * its own retry never sends twice; a message already claimed gets its real answer.
 * Uploaded files are deleted once their message is done (a sweep every 5 s).
 */
#include "gatewayd/botparams.h"
#include "gatewayd/gatewayd.h"
#include "gatewayd/choice.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define POLL_MS 1000
#define AGAIN_S 5       /* after a wait ran out on a claimed message: look again */
#define RETRY_AFTER_S 5 /* what a client whose wait ran out is told to wait */
#define SWEEP_POLLS 5   /* polls between sweeps of the files of done messages */

struct call {
	struct gw_botsend *bs;
	struct gw_req *r;
	struct call *prev, *next; /* the waiting calls */
	int64_t bot_id, msg_id;
	struct event *ev_wait;
	bool busy;     /* a query of this call is in flight */
	bool again;    /* an outcome was heard meanwhile: look again */
	bool waited;   /* the wait ran out once */
	bool detached; /* gatewayd stopped with a query of it in flight */
};

struct gw_botsend {
	struct gatewayd *gw;
	struct call *head;
	int n;
	bool polling;
	bool sweeping;
	bool closing; /* freed by the last query's callback */
	int polls;
	struct event *ev_poll;
};

static const char *const methods[] = {
	"sendMessage",
	"sendPhoto",
	"sendDocument",
	"sendVideo",
	"sendAudio",
	"sendVoice",
	"sendAnimation",
	"sendSticker",
	"sendMediaGroup",
	"sendLocation",
	"sendContact",
	"sendPoll",
	"copyMessage",
	"forwardMessage",
	"editMessageText",
	"editMessageCaption",
	"editMessageMedia",
	"editMessageReplyMarkup",
	"editMessageLiveLocation",
	"stopMessageLiveLocation",
	"sendVideoNote",
	"sendVenue",
	"sendDice",
	"copyMessages",
	"forwardMessages",
	"sendPaidMedia",
	NULL,
};

static const char insert_sql[] =
	"WITH m AS (INSERT INTO messages (tenant_id, bot_id, chat, method, params, priority,"
	"  botapi) VALUES ($1, $2, $3, $4, $5::jsonb, 0, true) RETURNING id),"
	" f AS (INSERT INTO botapi_files (message_id, field, filename, content_type, data)"
	"  SELECT m.id, f.field, f.filename, nullif(f.ctype, ''), decode(f.data, 'hex')"
	"  FROM m, unnest($6::text[], $7::text[], $8::text[], $9::text[])"
	"  AS f(field, filename, ctype, data))"
	" SELECT id FROM m";

static const char answer_sql[] =
	"SELECT m.status, m.last_error, a.http_status, a.body FROM messages m"
	" LEFT JOIN botapi_answers a ON a.message_id = m.id WHERE m.id = $1";

static const char cancel_sql[] =
	"WITH c AS (UPDATE messages SET status = 'canceled', updated_at = now(),"
	"  last_error = $2 WHERE id = $1 AND " GW_STILL_QUEUED " RETURNING id),"
	" e AS (INSERT INTO message_events (message_id, status, detail)"
	"  SELECT id, 'canceled', $2 FROM c),"
	" cb AS (SELECT queue_callbacks(array(SELECT id FROM c), 'canceled', $2) n)"
	" SELECT (SELECT count(*) FROM c), (SELECT n FROM cb)";

/* clang-format off */
static const char done_sql[] =
	"SELECT id FROM messages WHERE id = ANY($1::bigint[])"
	" AND status IN ('sent', 'failed', 'expired', 'canceled')";
/* clang-format on */

/* the files of messages that are done: kept until sent, then let go */
static const char sweep_sql[] =
	"DELETE FROM botapi_files f USING messages m WHERE m.id = f.message_id"
	" AND m.status IN ('sent', 'failed', 'expired', 'canceled')";

static const char wait_detail[] = "botapi_wait ran out before the message went out";

bool gw_botsend_method(const char *method)
{
	for (int i = 0; methods[i]; i++)
		if (strcasecmp(methods[i], method) == 0)
			return true;
	return false;
}

/* call_free - r's data: leave the waiting list */
static void call_free(void *data)
{
	struct call *c = data;

	if (c->detached)
		goto out;
	if (c->prev)
		c->prev->next = c->next;
	else if (c->bs->head == c)
		c->bs->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->msg_id)
		c->bs->n--;
out:
	if (c->ev_wait)
		event_free(c->ev_wait);
	free(c);
}

static void look(struct call *c);

/* arm - wake c after seconds */
static void arm(struct call *c, int seconds)
{
	struct timeval tv = { seconds, 0 };

	evtimer_add(c->ev_wait, &tv);
}

/* on_answer - the message's state and Telegram's answer, if it is final */
static void on_answer(struct gw_req *r, PGresult *res, const char *err)
{
	struct call *c = r->data;
	const char *status;
	char detail[400];

	c->busy = false;
	if (err || PQntuples(res) != 1) {
		if (err)
			log_warn("botapi: msg=%lld outcome not read: %s", (long long)c->msg_id,
				 err);
		c->again = true; /* the poll looks again */
		return;
	}
	status = PQgetvalue(res, 0, 0);
	if (!PQgetisnull(res, 0, 3) && strcmp(status, "sending") != 0 &&
	    strcmp(status, "retrying") != 0 && strcmp(status, "queued") != 0) {
		int code = (int)strtol(PQgetvalue(res, 0, 2), NULL, 10);

		tgm_http_reply(r->req, code > 0 ? code : 200, "application/json",
			       PQgetvalue(res, 0, 3), (size_t)PQgetlength(res, 0, 3));
		gw_req_free(r);
		return;
	}
	if (strcmp(status, "canceled") == 0 || strcmp(status, "expired") == 0) {
		snprintf(detail, sizeof(detail), "Bad Request: the message was %s in tgm", status);
		gw_botapi_error(r, 400, detail, 0);
		return;
	}
	if (strcmp(status, "failed") == 0 || strcmp(status, "sent") == 0) {
		snprintf(detail, sizeof(detail), "Bad Gateway: %s",
			 PQgetisnull(res, 0, 1) ? "no answer from Telegram"
						: PQgetvalue(res, 0, 1));
		gw_botapi_error(r, 502, detail, 0);
		return;
	}
	if (c->again) {
		c->again = false;
		look(c);
	}
}

/* look - read the message's outcome now */
static void look(struct call *c)
{
	char id[24];
	const char *p[1] = { id };

	if (c->busy) {
		c->again = true;
		return;
	}
	c->busy = true;
	c->again = false;
	snprintf(id, sizeof(id), "%lld", (long long)c->msg_id);
	gw_query_sql(c->r, answer_sql, 1, p, on_answer);
}

/* on_canceled - canceled: the client retries itself; else it is out, wait for it */
static void on_canceled(struct gw_req *r, PGresult *res, const char *err)
{
	struct call *c = r->data;

	c->busy = false;
	if (!err && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "1") == 0) {
		log_info("botapi: msg=%lld canceled, the wait ran out", (long long)c->msg_id);
		gw_choice_stale(r->gw->choice); /* its queue is shorter now */
		gw_botapi_error(r, 429, "Too Many Requests: retry after 5", RETRY_AFTER_S);
		return;
	}
	if (err)
		log_warn("botapi: msg=%lld not canceled: %s", (long long)c->msg_id, err);
	arm(c, AGAIN_S);
	look(c);
}

/* on_wait - the wait ran out: cancel the message unless it has gone out */
static void on_wait(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;
	char id[24];
	const char *p[2] = { id, wait_detail };

	if (c->busy) {
		arm(c, 1);
		return;
	}
	c->waited = true;
	c->busy = true;
	snprintf(id, sizeof(id), "%lld", (long long)c->msg_id);
	gw_query_sql(c->r, cancel_sql, 2, p, on_canceled);
}

/* find - the waiting call of message id, or NULL */
static struct call *find(struct gw_botsend *bs, int64_t id)
{
	for (struct call *c = bs->head; c; c = c->next)
		if (c->msg_id == id)
			return c;
	return NULL;
}

/* on_polled - the statuses of the waited messages, polled: answer those done */
static void on_polled(PGresult *res, const char *err, void *arg)
{
	struct gw_botsend *bs = arg;

	bs->polling = false;
	if (bs->closing) {
		if (!bs->sweeping)
			free(bs);
		return;
	}
	for (int i = 0; !err && i < PQntuples(res); i++) {
		int64_t id = 0;
		struct call *c;

		if (tgm_parse_int64(PQgetvalue(res, i, 0), &id) && (c = find(bs, id)))
			look(c);
	}
}

/* on_swept - the files of done messages deleted */
static void on_swept(PGresult *res, const char *err, void *arg)
{
	struct gw_botsend *bs = arg;

	bs->sweeping = false;
	if (bs->closing) {
		if (!bs->polling)
			free(bs);
		return;
	}
	if (err)
		log_warn("botapi: files of sent messages not deleted: %s", err);
}

/* on_poll - the waiting messages that are final (their publication may be lost); now
 * and then, the files of done messages go */
static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct gw_botsend *bs = arg;
	struct tgm_buf ids;
	char num[24];
	const char *p[1];

	if (++bs->polls % SWEEP_POLLS == 0 && !bs->sweeping) {
		bs->sweeping = true;
		tgm_pg_query(bs->gw->ctx->db, sweep_sql, 0, NULL, on_swept, bs);
	}
	if (bs->polling || bs->head == NULL)
		return;
	tgm_buf_init(&ids);
	for (struct call *c = bs->head; c; c = c->next) {
		snprintf(num, sizeof(num), "%lld", (long long)c->msg_id);
		tgm_pgarr_add(&ids, num);
	}
	tgm_pgarr_end(&ids);
	p[0] = ids.p;
	bs->polling = true;
	tgm_pg_query(bs->gw->ctx->db, done_sql, 1, p, on_polled, bs);
	tgm_buf_free(&ids);
}

void gw_botsend_heard(struct gw_botsend *bs, const char *json, size_t len)
{
	char err[128];
	yajl_val v;
	int64_t id = 0;
	const char *status;
	struct call *c;

	if (bs->head == NULL || (v = tgm_json_parse(json, len, len, 4, err, sizeof(err))) == NULL)
		return;
	status = tgm_json_get_str(v, "status");
	if (tgm_json_get_int(v, "id", &id) && status &&
	    (strcmp(status, "sent") == 0 || strcmp(status, "failed") == 0 ||
	     strcmp(status, "expired") == 0 || strcmp(status, "canceled") == 0) &&
	    (c = find(bs, id)))
		look(c);
	yajl_tree_free(v);
}

/* on_queued - the message is committed: wait for its outcome */
static void on_queued(struct gw_req *r, PGresult *res, const char *err)
{
	struct call *c = r->data;
	struct gw_botsend *bs = c->bs;

	if (err || PQntuples(res) != 1) {
		log_error("botapi: message not queued: %s", err ? err : "no row");
		gw_botapi_error(r, 500, "Internal Server Error: the message could not be queued",
				0);
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 0), &c->msg_id);
	c->next = bs->head;
	if (bs->head)
		bs->head->prev = c;
	bs->head = c;
	bs->n++;
	c->ev_wait = evtimer_new(bs->gw->ctx->base, on_wait, c);
	arm(c, bs->gw->ctx->cfg->gatewayd.botapi_wait);
	gw_ring(bs->gw, c->bot_id, false);
}

/* chat_of - the chat a call goes to ("inline" for an inline message's edit), or NULL */
static char *chat_of(const char *json)
{
	char err[64], num[24];
	yajl_val v = tgm_json_parse(json, strlen(json), strlen(json), 64, err, sizeof(err));
	yajl_val chat = v ? tgm_json_get(v, "chat_id") : NULL;
	char *out = NULL;

	if (chat && YAJL_IS_INTEGER(chat)) {
		snprintf(num, sizeof(num), "%lld", (long long)YAJL_GET_INTEGER(chat));
		out = tgm_xstrdup(num);
	} else if (chat && YAJL_IS_STRING(chat) && *YAJL_GET_STRING(chat)) {
		out = tgm_xstrdup(YAJL_GET_STRING(chat));
	} else if (v && tgm_json_get(v, "inline_message_id")) {
		out = tgm_xstrdup("inline");
	}
	yajl_tree_free(v);
	return out;
}

/* queue - insert the message and its files */
static void queue(struct call *c, const char *method, const char *chat,
		  const struct gw_botparams *bp)
{
	struct tgm_buf col[4];
	char tenant[24], bot[24];
	const char *p[9] = { tenant, bot, chat, method, bp->json };

	snprintf(tenant, sizeof(tenant), "%lld", (long long)c->r->tenant_id);
	snprintf(bot, sizeof(bot), "%lld", (long long)c->bot_id);
	for (int i = 0; i < 4; i++)
		tgm_buf_init(&col[i]);
	for (int i = 0; i < bp->nfiles; i++) {
		const struct tgm_mp_part *f = &bp->files[i];
		char *hex = tgm_xmalloc(2 * f->len + 1);

		tgm_hex_encode(f->data, f->len, hex);
		tgm_pgarr_add(&col[0], f->name);
		tgm_pgarr_add(&col[1], f->filename);
		tgm_pgarr_add(&col[2], f->content_type);
		tgm_pgarr_add(&col[3], hex);
		free(hex);
	}
	for (int i = 0; i < 4; i++) {
		tgm_pgarr_end(&col[i]);
		p[5 + i] = col[i].p;
	}
	gw_query_sql(c->r, insert_sql, 9, p, on_queued);
	for (int i = 0; i < 4; i++)
		tgm_buf_free(&col[i]);
}

void gw_botsend(struct gw_botsend *bs, struct gw_req *r, int64_t bot_id, const char *method)
{
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req));
	const char *type = gw_header(r, "Content-Type");
	struct gw_botparams bp;
	struct call *c;
	char err[300], why[360];
	char *chat;

	r->body_text = tgm_http_body(r->req, &r->body_len);
	if (!gw_botparams_read(&bp, q, type, r->body_text, r->body_len,
			       (size_t)bs->gw->ctx->cfg->gatewayd.botapi_max_body, err,
			       sizeof(err))) {
		snprintf(why, sizeof(why), "Bad Request: %s", err);
		gw_botparams_free(&bp);
		gw_botapi_error(r, 400, why, 0);
		return;
	}
	if ((chat = chat_of(bp.json)) == NULL) {
		gw_botparams_free(&bp);
		gw_botapi_error(r, 400, "Bad Request: chat_id is empty", 0);
		return;
	}
	c = tgm_xcalloc(1, sizeof(*c));
	c->bs = bs;
	c->r = r;
	c->bot_id = bot_id;
	r->data = c;
	r->data_free = call_free;
	queue(c, method, chat, &bp);
	free(chat);
	gw_botparams_free(&bp);
}

struct gw_botsend *gw_botsend_new(struct gatewayd *gw)
{
	struct gw_botsend *bs = tgm_xcalloc(1, sizeof(*bs));
	struct timeval tv = { POLL_MS / 1000, (POLL_MS % 1000) * 1000 };

	bs->gw = gw;
	bs->ev_poll = event_new(gw->ctx->base, -1, EV_PERSIST, on_poll, bs);
	event_add(bs->ev_poll, &tv);
	return bs;
}

int gw_botsend_waiting(const struct gw_botsend *bs)
{
	return bs->n;
}

void gw_botsend_free(struct gw_botsend *bs)
{
	if (bs == NULL)
		return;
	while (bs->head) { /* gatewayd stops: the outcome is not known here */
		struct call *c = bs->head;

		if (!c->busy) {
			gw_botapi_error(c->r, 503, "Service Unavailable: tgm is restarting", 0);
			continue;
		}
		bs->head = c->next;
		c->detached = true; /* its query's callback answers and frees it */
	}
	event_free(bs->ev_poll);
	bs->closing = true;
	if (!bs->polling && !bs->sweeping)
		free(bs);
}
