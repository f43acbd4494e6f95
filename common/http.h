/*
 * http.h - HTTP server helpers over libevent's evhttp: listening, a route table with
 * "{name}" path parameters, bounded bodies, JSON answers and RFC 9457 problems.
 *
 * A handler owns its request until it answers it (now or later, from a callback).
 * Every answer goes through tgm_http_reply*, which also counts it for /metrics.
 */
#ifndef TGM_HTTP_H
#define TGM_HTTP_H

#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>

#define TGM_HTTP_MAX_PARAMS 4

struct tgm_http_route;

struct tgm_http_params {
	const struct tgm_http_route *route; /* the route that matched */
	int n;
	const char *name[TGM_HTTP_MAX_PARAMS];
	char value[TGM_HTTP_MAX_PARAMS][128];
};

typedef void (*tgm_http_handler)(struct evhttp_request *req, const struct tgm_http_params *p,
				 void *arg);

struct tgm_http_route {
	int methods;         /* EVHTTP_REQ_GET | ... */
	const char *pattern; /* "/v1/bots/{id}" */
	tgm_http_handler handler;
	const void *data; /* the daemon's own per-route data, e.g. the scope it needs */
};

struct tgm_http_server;

/*
 * tgm_http_listen - bind listen ("host:port") and serve routes (a table ending with
 * a NULL pattern, borrowed for the server's life). arg is passed to every handler.
 */
struct tgm_http_server *tgm_http_listen(struct event_base *base, const char *listen,
					size_t max_body, const struct tgm_http_route *routes,
					void *arg, char *err, size_t errlen);
/* tgm_http_route_max_body - the route of pattern takes bodies up to max_body bytes */
void tgm_http_route_max_body(struct tgm_http_server *s, const char *pattern, size_t max_body);
/* tgm_http_stop_accepting - close the listening socket; requests in flight go on */
void tgm_http_stop_accepting(struct tgm_http_server *s);
void tgm_http_free(struct tgm_http_server *s);

/* tgm_http_param - a path parameter by name, or NULL */
const char *tgm_http_param(const struct tgm_http_params *p, const char *name);

/* tgm_http_body - the request body (NUL-terminated copy, caller frees) and its length */
char *tgm_http_body(struct evhttp_request *req, size_t *len);

void tgm_http_reply(struct evhttp_request *req, int code, const char *type, const char *body,
		    size_t len);
/* tgm_http_stream_start - start a 200 answer sent in chunks (evhttp_send_reply_chunk)
 * for as long as they come: the connection's read timeout is lifted (evhttp keeps it
 * running while it writes, and a stream's client sends nothing: every stream was cut
 * after 60 s), writes keep theirs, and the connection closes when the stream ends, so
 * that it does not live on idle without a timeout */
void tgm_http_stream_start(struct evhttp_request *req);
/* tgm_http_reply_json - the generator's text as application/json; frees g */
void tgm_http_reply_json(struct evhttp_request *req, int code, yajl_gen g);
/* tgm_http_reason - RFC 9110's reason phrase for status, or NULL when tgm has none */
const char *tgm_http_reason(int status);

/* tgm_http_problem_doc - the problem document tgm_http_problem sends, as a generator the
 * caller frees */
yajl_gen tgm_http_problem_doc(int status, const char *type, const char *detail, const char *field);

/*
 * tgm_http_problem - RFC 9457 application/problem+json: type is a short stable slug
 * ("invalid_field") made into "https://tgm.dev/problems/<slug>"; field may be NULL.
 */
void tgm_http_problem(struct evhttp_request *req, int status, const char *type, const char *detail,
		      const char *field);

/* request counters per route pattern and status, for /metrics */
void tgm_http_metrics(struct tgm_http_server *s, struct evbuffer *out, const char *prefix);

#endif
