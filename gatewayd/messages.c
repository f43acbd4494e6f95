/*
 * messages.c - POST /v1/messages and POST /v1/messages/batch (and the brief's
 * POST /api/send[/{bot_id}]): validate, hand the messages to the accept pipeline (which
 * chooses a bot where none is named), answer 202 only once they are committed.
 *
 * Idempotency: the Idempotency-Key header (or a batch item's idempotency_key) is
 * stored with the message with the SHA-256 of the request; a repeat with the same
 * request gets the first answer and Idempotent-Replayed: true, with another request
 * 422 (idem.c). A batch's header key becomes "<key>" US "<index>" per item (US, the unit
 * separator, cannot occur in a header, so no single request's key can collide).
 */
#include "gatewayd/gatewayd.h"
#include "gatewayd/accept.h"
#include "gatewayd/idem.h"
#include "gatewayd/validate.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX 1000

/* batch - a request's messages (one for POST /v1/messages) and their problems */
struct batch {
	int n;
	struct gw_msg **msgs; /* NULL where the item was refused */
	struct gw_problem *problems;
	struct gw_msg **valid; /* the accepted-for-commit subset, in order */
	int nvalid;
	bool single;
};

/* batch_free - free a request's messages and their problems */
static void batch_free(void *data)
{
	struct batch *b = data;

	for (int i = 0; i < b->n; i++)
		gw_msg_free(b->msgs[i]);
	free(b->msgs);
	free(b->problems);
	free(b->valid);
	free(b);
}

/* batch_new - room for the n messages of one request (single: POST /v1/messages) */
static struct batch *batch_new(struct gw_req *r, int n, bool single)
{
	struct batch *b = tgm_xcalloc(1, sizeof(*b));

	b->n = n;
	b->single = single;
	b->msgs = tgm_xcalloc((size_t)n, sizeof(*b->msgs));
	b->problems = tgm_xcalloc((size_t)n, sizeof(*b->problems));
	b->valid = tgm_xcalloc((size_t)n, sizeof(*b->valid));
	r->data = b;
	r->data_free = batch_free;
	return b;
}

/* validate_item - item i of the request into b->msgs[i] or b->problems[i] */
static void validate_item(struct gw_req *r, struct batch *b, int i, yajl_val item, int64_t path_bot)
{
	struct gw_msg *m = gw_validate_message(item, r->tenant_id, path_bot, &b->problems[i]);

	if (m == NULL)
		return;
	m->key_id = r->key_id;
	if (m->idem_key == NULL && r->idem_key[0])
		m->idem_key = b->single ? tgm_xstrdup(r->idem_key) /* \x1f: no header has it */
					: tgm_xasprintf("%s\x1f%d", r->idem_key, i);
	if (m->idem_key)
		gw_idem_hash(item, NULL, m->req_hash);
	b->msgs[i] = m;
}

/* message_json - an accepted message's id, status and bot */
static void message_json(yajl_gen g, const struct gw_msg *m)
{
	tgm_jgen_kint(g, "id", m->id);
	tgm_jgen_kstr(g, "status", tgm_msg_status_name(TGM_MSG_QUEUED)); /* also on a replay */
	tgm_jgen_kint(g, "bot_id", m->bot_id);
}

/* problem_json - a refused message's problem, as its "error" object */
static void problem_json(yajl_gen g, const struct gw_problem *pb)
{
	char uri[128];

	snprintf(uri, sizeof(uri), "https://tgm.dev/problems/%s", pb->type);
	tgm_jgen_key(g, "error");
	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "type", uri);
	tgm_jgen_kstr(g, "detail", pb->detail);
	if (pb->field[0])
		tgm_jgen_kstr(g, "field", pb->field);
	yajl_gen_map_close(g);
}

/* outcome_problem - the problem for a message the pipeline did not accept */
static void outcome_problem(const struct gw_msg *m, struct gw_problem *pb)
{
	switch (m->outcome) {
	case GW_KEY_CONFLICT:
		*pb = (struct gw_problem){ 422, "idempotency_conflict", "", "Idempotency-Key" };
		snprintf(pb->detail, sizeof(pb->detail),
			 "this idempotency key was used with a different request");
		break;
	case GW_KEY_REVOKED:
		*pb = (struct gw_problem){ 401, "unauthorized", "", "" };
		snprintf(pb->detail, sizeof(pb->detail), "the API key is unknown or revoked");
		break;
	case GW_BOT_NOT_FOUND:
		*pb = (struct gw_problem){ 404, "bot_not_found", "", "bot_id" };
		snprintf(pb->detail, sizeof(pb->detail), "no such bot");
		break;
	case GW_NO_BOT_FOR_CHAT:
		*pb = (struct gw_problem){ 422, "no_bot_for_chat", "", "bot_id" };
		snprintf(pb->detail, sizeof(pb->detail),
			 "none of your bots has talked to this chat yet: pass bot_id");
		break;
	default:
		*pb = (struct gw_problem){ 503, "database_unavailable", "", "" };
		snprintf(pb->detail, sizeof(pb->detail),
			 "the message was not accepted; retry (with the same Idempotency-Key)");
	}
}

/* answer_single - the answer to POST /v1/messages: 202 with Location, or its problem */
static void answer_single(struct gw_req *r, struct batch *b)
{
	struct gw_msg *m = b->msgs[0];
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	struct gw_problem pb;
	yajl_gen g;
	char loc[64];

	if (m->outcome != GW_ACCEPTED && m->outcome != GW_REPLAYED) {
		outcome_problem(m, &pb);
		gw_reply_problem(r, pb.status, pb.type, pb.detail, pb.field[0] ? pb.field : NULL);
		return;
	}
	snprintf(loc, sizeof(loc), "/v1/messages/%lld", (long long)m->id);
	evhttp_add_header(h, "Location", loc);
	if (m->outcome == GW_REPLAYED)
		gw_idem_replayed(r);
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	message_json(g, m);
	yajl_gen_map_close(g);
	gw_reply_json(r, 202, g);
}

/* answer_batch - the answer to a batch: one result per message, in order */
static void answer_batch(struct gw_req *r, struct batch *b)
{
	yajl_gen g = tgm_jgen_new();
	int accepted = 0;

	yajl_gen_map_open(g);
	tgm_jgen_key(g, "results");
	yajl_gen_array_open(g);
	for (int i = 0; i < b->n; i++) {
		struct gw_msg *m = b->msgs[i];
		struct gw_problem pb = b->problems[i];
		bool ok = m && (m->outcome == GW_ACCEPTED || m->outcome == GW_REPLAYED);

		if (m && !ok)
			outcome_problem(m, &pb);
		yajl_gen_map_open(g);
		tgm_jgen_kint(g, "index", i);
		tgm_jgen_kint(g, "code", ok ? 202 : pb.status);
		if (ok) {
			message_json(g, m);
			if (m->outcome == GW_REPLAYED)
				tgm_jgen_kbool(g, "replayed", true);
			accepted++;
		} else {
			problem_json(g, &pb);
		}
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	tgm_jgen_kint(g, "accepted", accepted);
	tgm_jgen_kint(g, "rejected", b->n - accepted);
	yajl_gen_map_close(g);
	gw_reply_json(r, 200, g);
}

/* record_latency - the request's time to its committed 202, into the histogram */
static void record_latency(struct gw_req *r)
{
	struct gatewayd *gw = r->gw;
	uint64_t us = (uint64_t)(tgm_mono_ms() * 1000 - r->started_us);
	int bucket = 0;

	while (bucket < 15 && us >= (250ULL << bucket))
		bucket++;
	gw->accept_hist[bucket]++;
	gw->accept_sum_us += us;
}

/* on_accepted - the request's messages have their outcomes: answer it */
static void on_accepted(struct gw_msg **msgs, int n, void *arg)
{
	struct gw_req *r = arg;
	struct batch *b = r->data;

	record_latency(r);
	if (b->single)
		answer_single(r, b);
	else
		answer_batch(r, b);
}

/* submit - every valid message goes to the accept pipeline */
static void submit(struct gw_req *r, struct batch *b)
{
	b->nvalid = 0;
	for (int i = 0; i < b->n; i++)
		if (b->msgs[i])
			b->valid[b->nvalid++] = b->msgs[i];
	if (b->single && b->nvalid == 0) {
		struct gw_problem *pb = &b->problems[0];
		gw_reply_problem(r, pb->status, pb->type, pb->detail,
				 pb->field[0] ? pb->field : NULL);
		return;
	}
	if (b->nvalid == 0) {
		answer_batch(r, b);
		return;
	}
	gw_accept_submit(r->gw->accept, b->valid, b->nvalid, on_accepted, r);
}

void gw_messages_create(struct gw_req *r)
{
	int64_t path_bot = 0;
	struct batch *b;

	if (r->body == NULL) {
		gw_reply_problem(r, 400, "invalid_json", "send the message as a JSON object", NULL);
		return;
	}
	if (tgm_http_param(&r->params, "bot_id") && !gw_path_id(r, "bot_id", &path_bot)) {
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", "bot_id");
		return;
	}
	b = batch_new(r, 1, true);
	validate_item(r, b, 0, r->body, path_bot);
	submit(r, b); /* a message naming no bot gets one in the accept statement */
}

void gw_messages_batch(struct gw_req *r)
{
	yajl_val list = tgm_json_get(r->body, "messages");
	struct batch *b;

	if (list == NULL || !YAJL_IS_ARRAY(list)) {
		gw_reply_problem(r, 422, "invalid_field", "messages must be an array", "messages");
		return;
	}
	if (list->u.array.len == 0 || list->u.array.len > BATCH_MAX) {
		gw_reply_problem(r, 422, "invalid_field", "messages must hold 1 to 1000 messages",
				 "messages");
		return;
	}
	b = batch_new(r, (int)list->u.array.len, false);
	for (int i = 0; i < b->n; i++)
		validate_item(r, b, i, list->u.array.values[i], 0);
	submit(r, b); /* a message naming no bot gets one in the accept statement */
}
