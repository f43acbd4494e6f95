/*
 * bare202.c - the baseline for `make bench`: a minimal libevent evhttp server that
 * answers every request with 202 and a small JSON body, doing no other work. The
 * gateway's accept rate is reported as a ratio of this server's rate in the same run.
 *
 * Usage: bare202 PORT
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static void answer(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evbuffer_new();

	evbuffer_add(out, "{\"id\":1,\"status\":\"queued\",\"bot_id\":1}", 37);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	evhttp_send_reply(req, 202, "Accepted", out);
	evbuffer_free(out);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);
	struct event *term = evsignal_new(base, SIGTERM, on_term, base);

	if (argc != 2 || evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)strtol(argv[1], NULL, 10))) {
		fprintf(stderr, "usage: bare202 PORT (and the port must be free)\n");
		return 1;
	}
	event_add(term, NULL);
	evhttp_set_gencb(http, answer, NULL);
	event_base_dispatch(base);
	evhttp_free(http);
	event_free(term);
	event_base_free(base);
	return 0;
}
