/*
 * httperr.c - libevent's own error pages become problem documents (see httperr.h).
 *
 * evhttp_send_error writes a response as three kinds of additions to the connection's
 * output buffer: the status line, the headers, then the body in one piece, which starts
 * with ERR_PAGE. The callback looks only at additions that start that way (a few bytes
 * copied per response body), finds the response's status line (the last "HTTP/1." before
 * the page: no header evhttp writes contains it), and replaces the response from there.
 */
#include "common/httperr.h"
#include "common/http.h"
#include "common/json.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_PAGE "<HTML><HEAD>\n<TITLE>"

/* busy - set while the callback rewrites, so its own changes are not looked at */
static _Thread_local int busy;

/* problem_type - the problem type of a status libevent answers by itself */
static const char *problem_type(int status, const char **detail)
{
	if (status == 413) {
		*detail = "the body is larger than allowed";
		return "content_too_large";
	}
	if (status >= 400 && status < 500) {
		*detail = "the request line, a header or the body's length is malformed";
		return "bad_request";
	}
	*detail = "the server could not answer";
	return "server_error";
}

/* status_line_at - the offset of the last "HTTP/1." before end in buf, or -1 */
static ev_ssize_t status_line_at(struct evbuffer *buf, size_t end)
{
	struct evbuffer_ptr p = evbuffer_search(buf, "HTTP/1.", 7, NULL);
	ev_ssize_t last = -1;

	while (p.pos >= 0 && (size_t)p.pos < end) {
		last = p.pos;
		if (evbuffer_ptr_set(buf, &p, 1, EVBUFFER_PTR_ADD) < 0)
			break;
		p = evbuffer_search(buf, "HTTP/1.", 7, &p);
	}
	return last;
}

/* status_at - the status code in the status line at pos ("HTTP/1.1 400 ..."), or 0 */
static int status_at(struct evbuffer *buf, ev_ssize_t pos)
{
	struct evbuffer_ptr p;
	char line[16] = "";

	if (evbuffer_ptr_set(buf, &p, (size_t)pos, EVBUFFER_PTR_SET) < 0 ||
	    evbuffer_copyout_from(buf, &p, line, sizeof(line) - 1) < 12)
		return 0;
	return (int)strtol(line + 9, NULL, 10);
}

/* replace - drop everything from pos on and write the problem answer of status instead */
static void replace(struct evbuffer *buf, ev_ssize_t pos, int status)
{
	struct evbuffer *keep = evbuffer_new();
	const char *detail, *type = problem_type(status, &detail);
	const char *reason = tgm_http_reason(status);
	yajl_gen g = tgm_http_problem_doc(status, type, detail, NULL);
	size_t len;
	const char *text = tgm_jgen_text(g, &len);

	evbuffer_remove_buffer(buf, keep, (size_t)pos);
	evbuffer_drain(buf, evbuffer_get_length(buf));
	evbuffer_add_buffer(buf, keep);
	evbuffer_add_printf(buf,
			    "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\n"
			    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
			    "Connection: close\r\n\r\n",
			    status, reason ? reason : "Error", len);
	evbuffer_add(buf, text, len);
	yajl_gen_free(g);
	evbuffer_free(keep);
}

/* on_output - an addition to a connection's output: an error page is replaced */
static void on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct evbuffer_ptr p;
	char head[sizeof(ERR_PAGE) - 1];
	ev_ssize_t pos;
	int status;

	(void)arg;
	if (busy || info->n_added < sizeof(head) || info->n_deleted ||
	    evbuffer_ptr_set(buf, &p, info->orig_size, EVBUFFER_PTR_SET) < 0 ||
	    evbuffer_copyout_from(buf, &p, head, sizeof(head)) != (ev_ssize_t)sizeof(head) ||
	    memcmp(head, ERR_PAGE, sizeof(head)) != 0)
		return;
	pos = status_line_at(buf, info->orig_size);
	status = pos < 0 ? 0 : status_at(buf, pos);
	if (status < 400)
		return;
	busy = 1;
	replace(buf, pos, status);
	busy = 0;
}

struct bufferevent *tgm_httperr_bufferevent(struct event_base *base, void *arg)
{
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);

	(void)arg;
	if (bev)
		evbuffer_add_cb(bufferevent_get_output(bev), on_output, NULL);
	return bev;
}
