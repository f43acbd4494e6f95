/*
 * request.c - the life of one API request: read and parse the body, run queries on
 * its behalf, answer it (JSON or an RFC 9457 problem) and free its state.
 *
 * A struct gw_req is created by gw_dispatch and freed by whichever gw_reply* answers
 * it; a handler that queries the database passes the gw_req along and answers from
 * the callback.
 */
#include "gatewayd/gatewayd.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#define JSON_DEPTH 16

struct gw_query {
	struct gw_req *r;
	void (*cb)(struct gw_req *r, PGresult *res, const char *err);
};

/* now_us - the monotonic clock in microseconds */
static int64_t now_us(void)
{
	return tgm_mono_ms() * 1000;
}

void gw_req_free(struct gw_req *r)
{
	if (r->data_free)
		r->data_free(r->data);
	yajl_tree_free(r->body);
	free(r->body_text);
	evhttp_clear_headers(&r->query);
	free(r);
}

void gw_reply_json(struct gw_req *r, int code, yajl_gen g)
{
	tgm_http_reply_json(r->req, code, g);
	gw_req_free(r);
}

void gw_reply_raw(struct gw_req *r, int code, const char *json)
{
	tgm_http_reply(r->req, code, "application/json", json, strlen(json));
	gw_req_free(r);
}

void gw_on_json(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else
		gw_reply_raw(r, 200, PQgetvalue(res, 0, 0));
}

void gw_tenant_param(const struct gw_req *r, char buf[24])
{
	snprintf(buf, 24, "%lld", (long long)r->tenant_id);
}

void gw_reply_problem(struct gw_req *r, int status, const char *type, const char *detail,
		      const char *field)
{
	tgm_http_problem(r->req, status, type, detail, field);
	gw_req_free(r);
}

void gw_reply_db_error(struct gw_req *r, const char *err)
{
	log_error("database error: %s", err);
	gw_reply_problem(r, 503, "database_unavailable",
			 "the database could not complete the request; retry later", NULL);
}

const char *gw_header(struct gw_req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

const char *gw_query(struct gw_req *r, const char *name)
{
	return r->has_query ? evhttp_find_header(&r->query, name) : NULL;
}

bool gw_path_id(struct gw_req *r, const char *name, int64_t *id)
{
	const char *v = tgm_http_param(&r->params, name);

	return v && tgm_parse_int64(v, id) && *id > 0;
}

/* on_query - a request's query answered: hand it to the request's callback */
static void on_query(PGresult *res, const char *err, void *arg)
{
	struct gw_query *q = arg;

	q->cb(q->r, res, err);
	free(q);
}

void gw_query_on(struct gw_req *r, struct tgm_pg *pg, const char *sql, int n,
		 const char *const *params,
		 void (*cb)(struct gw_req *r, PGresult *res, const char *err))
{
	struct gw_query *q = tgm_xmalloc(sizeof(*q));

	q->r = r;
	q->cb = cb;
	tgm_pg_query(pg, sql, n, params, on_query, q);
}

void gw_query_sql(struct gw_req *r, const char *sql, int n, const char *const *params,
		  void (*cb)(struct gw_req *r, PGresult *res, const char *err))
{
	gw_query_on(r, r->gw->ctx->db, sql, n, params, cb);
}

void gw_query_summary(struct gw_req *r, const char *name, const char *sql, int n,
		      const char *const *params,
		      void (*cb)(struct gw_req *r, PGresult *res, const char *err))
{
	struct gw_query *q = tgm_xmalloc(sizeof(*q));

	q->r = r;
	q->cb = cb;
	tgm_pg_query_prepared(r->gw->summary_pg, name, sql, n, params, on_query, q);
}

/* is_json - Content-Type application/json, with or without parameters */
static bool is_json(const char *type)
{
	size_t n = strlen("application/json");

	return type && strncasecmp(type, "application/json", n) == 0 &&
	       (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

/* read_body - parse a JSON body for POST/PATCH/PUT; false after answering an error */
static bool read_body(struct gw_req *r)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(r->req);
	char err[256];

	r->body_text = tgm_http_body(r->req, &r->body_len);
	if (m != EVHTTP_REQ_POST && m != EVHTTP_REQ_PATCH && m != EVHTTP_REQ_PUT)
		return true;
	if (r->body_len == 0 && m == EVHTTP_REQ_POST)
		return true; /* e.g. POST .../cancel */
	if (r->route->upload && gw_header(r, "Content-Type") &&
	    strncasecmp(gw_header(r, "Content-Type"), "multipart/form-data", 19) == 0)
		return true; /* the handler parses it (body_text) */
	if (!is_json(gw_header(r, "Content-Type"))) {
		gw_reply_problem(r, 415, "unsupported_media_type",
				 "send the body as Content-Type: application/json", NULL);
		return false;
	}
	r->body = tgm_json_parse(r->body_text, r->body_len, r->body_len, JSON_DEPTH, err,
				 sizeof(err));
	if (r->body == NULL) {
		gw_reply_problem(r, 400, "invalid_json", err, NULL);
		return false;
	}
	if (!YAJL_IS_OBJECT(r->body)) {
		gw_reply_problem(r, 400, "invalid_json", "the body must be a JSON object", NULL);
		return false;
	}
	return true;
}

/* gw_proceed - the caller may do this: read the request's body and headers, run it */
void gw_proceed(struct gw_req *r)
{
	const char *idem = gw_header(r, "Idempotency-Key");
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req));

	if (q && evhttp_parse_query_str(q, &r->query) != 0) {
		gw_reply_problem(r, 400, "invalid_query", "the query string is malformed", NULL);
		return;
	}
	r->has_query = q != NULL;
	if (!read_body(r))
		return;
	if (idem && (strlen(idem) == 0 || strlen(idem) >= sizeof(r->idem_key))) {
		gw_reply_problem(r, 400, "invalid_header",
				 "Idempotency-Key must be 1 to 255 characters", "Idempotency-Key");
		return;
	}
	if (idem)
		snprintf(r->idem_key, sizeof(r->idem_key), "%s", idem);
	r->route->handler(r);
}

void gw_dispatch(struct evhttp_request *req, const struct tgm_http_params *p, void *arg)
{
	struct tgm_ctx *ctx = arg;
	struct gw_req *r = tgm_xcalloc(1, sizeof(*r));

	r->req = req;
	r->gw = ctx->app;
	r->params = *p;
	r->route = p->route->data;
	r->started_us = now_us();
	TAILQ_INIT(&r->query);
	if (r->route->scope == 0)
		gw_proceed(r);
	else
		gw_authenticate(r); /* then gw_proceed */
}
