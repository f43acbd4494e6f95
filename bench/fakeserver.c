/*
 * fakeserver.c - the baselines' server for `make bench`: a minimal libevent evhttp
 * server that answers every request at once, doing no other work. In mode "202" it
 * answers like gatewayd accepting a message (the gateway's baseline); in mode
 * "telegram" it answers like the Bot API accepting a send (the fast fake Telegram
 * that senderd and the bare libcurl loop are measured against).
 *
 * Usage: fakeserver PORT [202|telegram]
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char accepted[] = "{\"id\":1,\"status\":\"queued\",\"bot_id\":1}";
static const char telegram[] =
	"{\"ok\":true,\"result\":{\"message_id\":1,\"date\":1,"
	"\"chat\":{\"id\":1,\"type\":\"private\"},\"id\":1,\"is_bot\":true,"
	"\"first_name\":\"bench\",\"username\":\"bench_bot\"}}";

static void answer(struct evhttp_request *req, void *arg)
{
	const char *body = arg;
	struct evbuffer *out = evbuffer_new();

	evbuffer_add(out, body, strlen(body));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	evhttp_send_reply(req, body == accepted ? 202 : 200, NULL, out);
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
	const char *body = argc > 2 && strcmp(argv[2], "telegram") == 0 ? telegram : accepted;

	if (argc < 2 ||
	    evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)strtol(argv[1], NULL, 10))) {
		fprintf(stderr, "usage: fakeserver PORT [202|telegram] (the port must be free)\n");
		return 1;
	}
	event_add(term, NULL);
	evhttp_set_gencb(http, answer, (void *)body);
	event_base_dispatch(base);
	evhttp_free(http);
	event_free(term);
	event_base_free(base);
	return 0;
}
