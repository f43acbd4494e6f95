/*
 * http.c - evhttp server glue (see http.h): route matching, 404/405 answers,
 * problem documents, answers written in the turn that gives them, connections kept
 * reading while an answer waits, and per-route counters.
 */
#include "common/http.h"
#include "common/httperr.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBLEM_BASE "https://tgm.dev/problems/"
#define TIMEOUT_S 60 /* a connection's reads and writes (evhttp's timeout) */

struct route_stat {
	const char *pattern;
	unsigned long count[6]; /* by status class: 1xx..5xx, [0] unused */
};

struct tgm_http_server {
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	const struct tgm_http_route *routes;
	void *arg;
	size_t nroutes;
	struct route_stat *stats; /* one per route, then one for unmatched */
	size_t max_body;
	size_t *limits; /* per route: its own body limit, 0: max_body */
};

/* Above zero while route() runs a handler: an answer given there is left to evhttp (see
 * write_now). One thread runs every server of a daemon. */
static int in_handler;

/* Answers started so far (tgm_http_reply, tgm_http_stream_start): route() tells by it
 * whether its handler answered or the answer comes later (keep_reading). */
static unsigned long answers;

/* Most bytes read ahead of an answer that comes later (keep_reading) */
#define READ_AHEAD_MAX 65536

/* on_complete - count an answered request under its route and status class */
static void on_complete(struct evhttp_request *req, void *arg)
{
	struct route_stat *st = arg;
	int code = evhttp_request_get_response_code(req);

	if (code >= 100 && code < 600)
		st->count[code / 100]++;
}

/* match - compare a path with a pattern, filling the parameters; true if it fits */
static bool match(const char *pattern, const char *path, struct tgm_http_params *p)
{
	p->n = 0;
	while (*pattern && *path) {
		if (*pattern == '{') {
			const char *close = strchr(pattern, '}');
			size_t n = strcspn(path, "/");

			if (close == NULL || n == 0 || n >= sizeof(p->value[0]) ||
			    p->n == TGM_HTTP_MAX_PARAMS)
				return false;
			p->name[p->n] = pattern + 1; /* up to '}' */
			memcpy(p->value[p->n], path, n);
			p->value[p->n++][n] = '\0';
			pattern = close + 1;
			path += n;
		} else if (*pattern++ != *path++) {
			return false;
		}
	}
	return *pattern == '\0' && *path == '\0';
}

const char *tgm_http_param(const struct tgm_http_params *p, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < p->n; i++)
		if (strncmp(p->name[i], name, n) == 0 && p->name[i][n] == '}')
			return p->value[i];
	return NULL;
}

/* allow_header - the Allow header of a 405: the methods in the mask, comma-separated */
static void allow_header(struct evhttp_request *req, int methods)
{
	static const struct {
		int m;
		const char *name;
	} names[] = {
		{ EVHTTP_REQ_GET, "GET" },     { EVHTTP_REQ_HEAD, "HEAD" },
		{ EVHTTP_REQ_POST, "POST" },   { EVHTTP_REQ_PUT, "PUT" },
		{ EVHTTP_REQ_PATCH, "PATCH" }, { EVHTTP_REQ_DELETE, "DELETE" },
	};
	char allow[64] = "";
	size_t n = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (methods & names[i].m)
			n += (size_t)snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "",
					      names[i].name);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
}

/* route - find the handler for a request, or answer 404 / 405 */
/* too_large - the body is over route i's limit (the server's, or its own): a 413 */
static bool too_large(struct tgm_http_server *s, struct evhttp_request *req, size_t i)
{
	size_t limit = i < s->nroutes && s->limits[i] ? s->limits[i] : s->max_body;

	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) <= limit)
		return false;
	evhttp_request_set_on_complete_cb(req, on_complete, &s->stats[s->nroutes]);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
	tgm_http_problem(req, 413, "content_too_large", "the body is larger than allowed", NULL);
	return true;
}

void tgm_http_route_max_body(struct tgm_http_server *s, const char *pattern, size_t max_body)
{
	for (size_t i = 0; i < s->nroutes; i++)
		if (strcmp(s->routes[i].pattern, pattern) == 0)
			s->limits[i] = max_body;
	if (max_body + 65536 > s->max_body * 2 + 65536)
		evhttp_set_max_body_size(s->http, (ev_ssize_t)(max_body + 65536));
}

/* on_pending_event - the connection of a request whose answer comes later was closed,
 * failed or idle past its read timeout: the bufferevent has stopped reading already, and
 * the answer finds the connection as evhttp would have (its writing tells) */
static void on_pending_event(struct bufferevent *bev, short what, void *arg)
{
}

/* keep_reading - a request whose answer comes later keeps its connection in the event
 * loop's read set. evhttp stops reading a connection once a request is read and starts
 * again when the answer is written: two epoll_ctl calls a request when the answer comes
 * in a later turn of the loop (every answer after a query). Started again in the turn
 * that stopped it, the two become one (the change list makes a stop and a start one
 * EPOLL_CTL_MOD), and the answer's turn has none: gatewayd's accept path went from 5.2
 * to 4.2 system calls a message. So reading goes on, as evhttp itself keeps it on while
 * an answer is written: no read callback (bytes of a next request wait in the buffer,
 * READ_AHEAD_MAX at most, for evhttp to read after the answer), and a close, an error or
 * the read timeout only stops the reading, as evhttp's stopped reading left them unseen
 * until the answer. A connection whose output holds an answer already (one begun without
 * tgm_http_reply or tgm_http_stream_start) is left to evhttp. */
static void keep_reading(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	bufferevent_data_cb on_write;
	void *cbarg;

	if (conn == NULL)
		return;
	bev = evhttp_connection_get_bufferevent(conn);
	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return; /* an answer begun some other way: evhttp's callbacks write it */
	bufferevent_getcb(bev, NULL, &on_write, NULL, &cbarg);
	bufferevent_setcb(bev, NULL, on_write, on_pending_event, cbarg);
	bufferevent_setwatermark(bev, EV_READ, 0, READ_AHEAD_MAX);
	bufferevent_enable(bev, EV_READ);
}

/* answer_starts - before evhttp writes an answer given outside a handler: the read-ahead
 * limit goes (evhttp reads a whole body into the buffer before taking it), and evhttp's
 * own callbacks come back as it writes */
static void answer_starts(struct evhttp_connection *conn)
{
	answers++;
	if (conn)
		bufferevent_setwatermark(evhttp_connection_get_bufferevent(conn), EV_READ, 0, 0);
}

/* route - every request: the first route matching path and method gets it (size limits
 * checked first); a matching path with another method gets 405, none 404. A handler
 * that leaves its answer for later keeps the connection reading (keep_reading). */
static void route(struct evhttp_request *req, void *arg)
{
	struct tgm_http_server *s = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	int method = (int)evhttp_request_get_command(req), allowed = 0;
	int wanted = method == EVHTTP_REQ_HEAD ? EVHTTP_REQ_GET | EVHTTP_REQ_HEAD : method;
	struct tgm_http_params p;

	if (path == NULL)
		path = "/";
	for (size_t i = 0; i < s->nroutes; i++) {
		if (!match(s->routes[i].pattern, path, &p))
			continue;
		if (too_large(s, req, i))
			return;
		if (s->routes[i].methods & wanted) { /* HEAD is GET without the body */
			unsigned long before = answers;

			p.route = &s->routes[i];
			evhttp_request_set_on_complete_cb(req, on_complete, &s->stats[i]);
			in_handler++;
			s->routes[i].handler(req, &p, s->arg);
			in_handler--;
			if (answers == before)
				keep_reading(req);
			return;
		}
		allowed |= s->routes[i].methods;
	}
	if (too_large(s, req, s->nroutes))
		return;
	evhttp_request_set_on_complete_cb(req, on_complete, &s->stats[s->nroutes]);
	if (allowed) {
		allow_header(req, allowed);
		tgm_http_problem(req, 405, "method_not_allowed",
				 "this method is not allowed on this path", NULL);
		return;
	}
	tgm_http_problem(req, 404, "not_found", "no such path", NULL);
}

struct tgm_http_server *tgm_http_listen(struct event_base *base, const char *listen,
					size_t max_body, const struct tgm_http_route *routes,
					void *arg, char *err, size_t errlen)
{
	struct tgm_http_server *s = tgm_xcalloc(1, sizeof(*s));
	const char *colon = strrchr(listen, ':');
	char host[256];

	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	if (host[0] == '[') { /* [::1]:8080 */
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	s->http = evhttp_new(base);
	s->routes = routes;
	s->arg = arg;
	while (routes[s->nroutes].pattern)
		s->nroutes++;
	s->stats = tgm_xcalloc(s->nroutes + 1, sizeof(*s->stats));
	s->limits = tgm_xcalloc(s->nroutes + 1, sizeof(*s->limits));
	for (size_t i = 0; i < s->nroutes; i++)
		s->stats[i].pattern = routes[i].pattern;
	s->stats[s->nroutes].pattern = "unmatched";
	/* bodies up to twice the limit get a problem document from route(); beyond that
	 * libevent refuses them itself before reading them, and httperr.c turns its HTML
	 * page (as for a broken request line, header or length) into a problem document */
	s->max_body = max_body;
	evhttp_set_max_body_size(s->http, (ev_ssize_t)(max_body * 2 + 65536));
	evhttp_set_max_headers_size(s->http, 65536);
	evhttp_set_timeout(s->http, TIMEOUT_S);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH |
						    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(s->http, route, s);
	evhttp_set_bevcb(s->http, tgm_httperr_bufferevent, NULL);
	s->sock = evhttp_bind_socket_with_handle(s->http, host,
						 (ev_uint16_t)strtol(colon + 1, NULL, 10));
	if (s->sock == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s", listen,
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		tgm_http_free(s);
		return NULL;
	}
	return s;
}

void tgm_http_stop_accepting(struct tgm_http_server *s)
{
	if (s && s->sock) {
		evhttp_del_accept_socket(s->http, s->sock);
		s->sock = NULL;
	}
}

void tgm_http_free(struct tgm_http_server *s)
{
	if (s == NULL)
		return;
	evhttp_free(s->http);
	free(s->stats);
	free(s->limits);
	free(s);
}

char *tgm_http_body(struct evhttp_request *req, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	char *buf = tgm_xmalloc(n + 1);

	evbuffer_copyout(in, buf, n);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* tgm_http_reason - RFC 9110's phrase for the codes tgm answers with (libevent 2.1 says
 * "Client Error" for 422 and 429), or NULL */
const char *tgm_http_reason(int status)
{
	static const struct {
		int code;
		const char *text;
	} phrases[] = {
		{ 200, "OK" },
		{ 201, "Created" },
		{ 202, "Accepted" },
		{ 204, "No Content" },
		{ 304, "Not Modified" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 409, "Conflict" },
		{ 413, "Content Too Large" },
		{ 415, "Unsupported Media Type" },
		{ 422, "Unprocessable Content" },
		{ 429, "Too Many Requests" },
		{ 500, "Internal Server Error" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
	};
	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (phrases[i].code == status)
			return phrases[i].text;
	return NULL; /* libevent picks its own */
}

/* write_now - a deferred answer (one given outside its handler: after a query, a COMMIT)
 * is written to the socket at once, and evhttp is told it was written, as its write
 * event would have told it on the next turn of the loop. evhttp enables writing to send
 * an answer and disables it once written: in the same turn, the event loop's change list
 * folds the two into no epoll_ctl at all, and the turn that only wrote is saved (one
 * system call a message fewer on gatewayd's accept path at full load: 5.2, not 6.3;
 * keep_reading took it to 4.2).
 * What the socket does not take now is written by the bufferevent as before. Inside a
 * handler evhttp's own read path is still on the stack, and a Connection: close answer
 * would free the connection under it: those answers are left to the loop. */
static void write_now(struct evhttp_connection *conn)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
	struct evbuffer *out = bufferevent_get_output(bev);
	evutil_socket_t fd = bufferevent_getfd(bev);

	while (evbuffer_get_length(out) > 0 && evbuffer_write(out, fd) > 0)
		;
	if (evbuffer_get_length(out) == 0)
		bufferevent_trigger(bev, EV_WRITE, 0); /* evhttp_write_cb: the answer is done */
}

void tgm_http_reply(struct evhttp_request *req, int code, const char *type, const char *body,
		    size_t len)
{
	struct evbuffer *out = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evhttp_connection *conn = in_handler ? NULL : evhttp_request_get_connection(req);

	answer_starts(conn);
	if (type)
		evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		evbuffer_add(out, body, len);
	evhttp_send_reply(req, code, tgm_http_reason(code), out);
	evbuffer_free(out);
	if (conn)
		write_now(conn);
}

void tgm_http_stream_start(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct timeval write_tv = { TIMEOUT_S, 0 };

	answer_starts(in_handler ? NULL : conn);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
	evhttp_send_reply_start(req, 200, "OK");
	if (conn) /* after the start: it enables reading with the timeout */
		bufferevent_set_timeouts(evhttp_connection_get_bufferevent(conn), NULL, &write_tv);
}

void tgm_http_reply_json(struct evhttp_request *req, int code, yajl_gen g)
{
	size_t len;
	const char *text = tgm_jgen_text(g, &len);

	tgm_http_reply(req, code, "application/json", text, len);
	yajl_gen_free(g);
}

yajl_gen tgm_http_problem_doc(int status, const char *type, const char *detail, const char *field)
{
	yajl_gen g = tgm_jgen_new();
	char uri[128];

	snprintf(uri, sizeof(uri), PROBLEM_BASE "%s", type);
	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "type", uri);
	tgm_jgen_kstr(g, "title", tgm_http_reason(status) ? tgm_http_reason(status) : "Error");
	tgm_jgen_kint(g, "status", status);
	tgm_jgen_kstr(g, "detail", detail);
	if (field)
		tgm_jgen_kstr(g, "field", field);
	yajl_gen_map_close(g);
	return g;
}

void tgm_http_problem(struct evhttp_request *req, int status, const char *type, const char *detail,
		      const char *field)
{
	yajl_gen g = tgm_http_problem_doc(status, type, detail, field);
	size_t len;
	const char *text = tgm_jgen_text(g, &len);

	tgm_http_reply(req, status, "application/problem+json", text, len);
	yajl_gen_free(g);
}

void tgm_http_metrics(struct tgm_http_server *s, struct evbuffer *out, const char *prefix)
{
	evbuffer_add_printf(out,
			    "# HELP %s_http_requests_total HTTP requests answered, by route"
			    " and status class\n# TYPE %s_http_requests_total counter\n",
			    prefix, prefix);
	for (size_t i = 0; i <= s->nroutes; i++) {
		unsigned long count[6] = { 0 };
		bool first = true;

		for (size_t j = 0; j < i && first; j++) /* one series per path pattern */
			first = strcmp(s->stats[j].pattern, s->stats[i].pattern) != 0;
		if (!first)
			continue;
		for (size_t j = i; j <= s->nroutes; j++)
			if (strcmp(s->stats[j].pattern, s->stats[i].pattern) == 0)
				for (int c = 1; c < 6; c++)
					count[c] += s->stats[j].count[c];
		for (int c = 1; c < 6; c++)
			if (count[c])
				evbuffer_add_printf(
					out,
					"%s_http_requests_total{route=\"%s\",code=\"%dxx\"} %lu\n",
					prefix, s->stats[i].pattern, c, count[c]);
	}
}
