/*
 * stripe.c - POST /stripe: Stripe's events. The Stripe-Signature header is verified
 * over the raw body before anything reads it (common/stripe_sig.c, secrets from
 * stripe.webhook_secret, age bounded by stripe.webhook_tolerance); a verified event is
 * parsed strictly, stored once by its id in stripe_events and committed before the
 * 200 (Stripe retries anything else), then announced to billingd, which also sweeps
 * the table. Answers: 200 {"received":true,"duplicate":false|true}; 400 bad_signature,
 * malformed_json, invalid_event; 503 stripe_not_configured, database_unavailable;
 * bodies over [webhookd] max_body get 413 content_too_large from common/http.c.
 */
#include "webhookd/webhookd.h"
#include "common/json.h"
#include "common/log.h"
#include "common/stripe_sig.h"
#include "common/util.h"

#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_ID_MAX 255
#define CREATED_MAX 253402300799LL /* 9999-12-31T23:59:59Z */
#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"

/* st_store - one event being stored: the request waits for the INSERT */
struct st_store {
	struct webhookd *wh;
	struct evhttp_request *req;
	char *id;
};

static const char insert_sql[] =
	"INSERT INTO stripe_events (id, type, object_id, livemode, created, payload)"
	" VALUES ($1, $2, $3, $4::boolean, to_timestamp($5::bigint), $6::jsonb)"
	" ON CONFLICT (id) DO NOTHING RETURNING id";

/* configured - the secret list holds at least one secret */
static bool configured(const char *secrets)
{
	const char *p = secrets ? secrets : "";
	size_t n;

	return tgm_words_next(&p, &n) != NULL;
}

/* prefix_hint - for the log: a configured secret lacks whsec_ (it is part of the key) */
static const char *prefix_hint(const char *secrets)
{
	const char *p = secrets, *w;
	size_t n;

	while ((w = tgm_words_next(&p, &n)) != NULL)
		if (n < 6 || memcmp(w, "whsec_", 6) != 0)
			return " (a configured stripe.webhook_secret does not start with whsec_:"
			       " the whole whsec_... string is the key)";
	return "";
}

/* verified - the signature holds; else false after answering 400 bad_signature */
static bool verified(struct webhookd *wh, struct evhttp_request *req, const char *body, size_t len)
{
	const struct tgm_config *cfg = wh->ctx->cfg;
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
					   "Stripe-Signature");
	char err[256], *peer = NULL;
	ev_uint16_t port = 0;

	if (tgm_stripe_verify(h, body, len, cfg->stripe.webhook_secret, tgm_now_ms() / 1000,
			      cfg->stripe.webhook_tolerance, err, sizeof(err)) == TGM_STRIPE_OK)
		return true;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer, &port);
	log_warn("stripe: refused an event from %s: %s%s", peer ? peer : "?", err,
		 prefix_hint(cfg->stripe.webhook_secret));
	tgm_http_problem(req, 400, "bad_signature", err, NULL);
	return false;
}

/* event_check - a usable event: an object with an evt_ id and a type; else the
 * field at fault and a reason */
static bool event_check(yajl_val ev, const char **field, char *err, size_t errlen)
{
	const char *id = tgm_json_get_str(ev, "id"), *type = tgm_json_get_str(ev, "type");

	*field = NULL;
	if (!YAJL_IS_OBJECT(ev)) {
		snprintf(err, errlen, "the body must be a JSON object (a Stripe event)");
		return false;
	}
	*field = "id";
	if (id == NULL || strncmp(id, "evt_", 4) != 0 || strlen(id) > EVENT_ID_MAX ||
	    id[strspn(id, ID_CHARS)] != '\0') {
		snprintf(err, errlen, "\"id\" must be a Stripe event id (a string evt_...)");
		return false;
	}
	*field = "type";
	if (type == NULL || type[0] == '\0') {
		snprintf(err, errlen, "\"type\" must be a non-empty string");
		return false;
	}
	return true;
}

/* parse_event - the verified body as a usable event (caller frees); else NULL after
 * answering 400 malformed_json or invalid_event */
static yajl_val parse_event(struct evhttp_request *req, const char *body, size_t len)
{
	const char *field;
	char err[256];
	yajl_val ev = tgm_json_parse(body, len, len, TGM_JSON_MAX_DEPTH, err, sizeof(err));

	if (ev == NULL) {
		tgm_http_problem(req, 400, "malformed_json", err, NULL);
		return NULL;
	}
	if (!event_check(ev, &field, err, sizeof(err))) {
		tgm_http_problem(req, 400, "invalid_event", err, field);
		yajl_tree_free(ev);
		return NULL;
	}
	return ev;
}

/* object_id - data.object.id, or NULL */
static const char *object_id(yajl_val ev)
{
	yajl_val data = tgm_json_get(ev, "data");

	return tgm_json_get_str(data ? tgm_json_get(data, "object") : NULL, "id");
}

/* reply_received - 200 {"received":true,"duplicate":...} */
static void reply_received(struct evhttp_request *req, bool duplicate)
{
	yajl_gen g = tgm_jgen_new();

	yajl_gen_map_open(g);
	tgm_jgen_kbool(g, "received", true);
	tgm_jgen_kbool(g, "duplicate", duplicate);
	yajl_gen_map_close(g);
	tgm_http_reply_json(req, 200, g);
}

/* announce - tell billingd the event is stored; a drop is fine (it sweeps) */
static void announce(struct webhookd *wh, const char *id)
{
	yajl_gen g = tgm_jgen_new();
	const char *text;
	size_t len;

	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "id", id);
	yajl_gen_map_close(g);
	text = tgm_jgen_text(g, &len);
	if (!tgm_bus_send(wh->billing, "stripe", text, len))
		log_warn("stripe: billing queue full, billingd's sweep will find %s", id);
	yajl_gen_free(g);
}

/* refuse_store - the INSERT failed: 400 when the payload itself cannot be stored
 * (SQLSTATE class 22, e.g. a \u0000 jsonb refuses), else 503 so that Stripe retries */
static void refuse_store(struct st_store *s, PGresult *res, const char *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	char detail[300];

	if (state && strncmp(state, "22", 2) == 0) {
		snprintf(detail, sizeof(detail), "the event cannot be stored: %s", err);
		log_warn("stripe: %s cannot be stored: %s", s->id, err);
		tgm_http_problem(s->req, 400, "invalid_event", detail, NULL);
		return;
	}
	log_warn("stripe: could not store %s: %s", s->id, err);
	tgm_http_problem(s->req, 503, "database_unavailable",
			 "the event could not be stored; retry later", NULL);
}

/* on_stored - the INSERT is done: committed (new or a duplicate) or failed */
static void on_stored(PGresult *res, const char *err, void *arg)
{
	struct st_store *s = arg;
	bool duplicate;

	s->wh->inflight--;
	if (err) {
		refuse_store(s, res, err);
	} else {
		duplicate = PQntuples(res) == 0;
		reply_received(s->req, duplicate);
		if (duplicate) {
			log_debug("stripe: %s again (already stored)", s->id);
		} else {
			log_info("stripe: stored %s", s->id);
			announce(s->wh, s->id);
		}
	}
	free(s->id);
	free(s);
}

/* store - INSERT the event once by its id; the answer comes from on_stored */
static void store(struct webhookd *wh, struct evhttp_request *req, yajl_val ev, const char *body)
{
	struct st_store *s = tgm_xcalloc(1, sizeof(*s));
	int64_t created;
	bool live = false;
	char ctext[24];
	const char *params[6];

	s->wh = wh;
	s->req = req;
	s->id = tgm_xstrdup(tgm_json_get_str(ev, "id"));
	tgm_json_get_bool(ev, "livemode", &live);
	if (tgm_json_get_int(ev, "created", &created) && created >= 0 && created <= CREATED_MAX)
		snprintf(ctext, sizeof(ctext), "%lld", (long long)created);
	else
		ctext[0] = '\0';
	params[0] = s->id;
	params[1] = tgm_json_get_str(ev, "type");
	params[2] = object_id(ev);
	params[3] = live ? "true" : "false";
	params[4] = ctext[0] ? ctext : NULL;
	params[5] = body;
	wh->inflight++;
	tgm_pg_query(wh->ctx->db, insert_sql, 6, params, on_stored, s);
}

void wh_stripe_intake(struct evhttp_request *req, const struct tgm_http_params *p, void *arg)
{
	struct webhookd *wh = arg;
	size_t len;
	char *body;
	yajl_val ev;

	(void)p;
	if (!configured(wh->ctx->cfg->stripe.webhook_secret)) {
		tgm_http_problem(
			req, 503, "stripe_not_configured",
			"stripe.webhook_secret is not set: Stripe events cannot be verified", NULL);
		return;
	}
	body = tgm_http_body(req, &len);
	if (verified(wh, req, body, len) && (ev = parse_event(req, body, len)) != NULL) {
		store(wh, req, ev, body);
		yajl_tree_free(ev);
	}
	free(body);
}
