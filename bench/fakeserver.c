/*
 * fakeserver.c - the baselines' server for `make bench`: a minimal libevent evhttp
 * server that answers every request at once, doing no other work. In mode "202" it
 * answers like gatewayd accepting a message (the gateway's baseline); in mode
 * "telegram" it answers like the Bot API accepting a send (the fast fake Telegram
 * that senderd and the bare libcurl loop are measured against).
 *
 * A third argument delays every answer by that many ms (Telegram far away).
 *
 * Usage: fakeserver PORT [202|telegram] [DELAY_MS]
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char accepted[] = "{\"id\":1,\"status\":\"queued\",\"bot_id\":1}";
/* clang-format off */
static const char telegram[] =
	"{\"ok\":true,\"result\":{\"message_id\":1,\"date\":1,"
	"\"chat\":{\"id\":1,\"type\":\"private\"},\"id\":1,\"is_bot\":true,"
	"\"first_name\":\"bench\",\"username\":\"bench_bot\"}}";
/* clang-format on */

static struct event_base *base;
static struct timeval delay;

static void reply(struct evhttp_request *req, const char *body)
{
	struct evbuffer *out = evbuffer_new();

	evbuffer_add(out, body, strlen(body));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	evhttp_send_reply(req, body == accepted ? 202 : 200, NULL, out);
	evbuffer_free(out);
}

static const char *body_of_all;

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
	reply(arg, body_of_all);
}

static void answer(struct evhttp_request *req, void *arg)
{
	if (delay.tv_sec || delay.tv_usec)
		event_base_once(base, -1, EV_TIMEOUT, on_delay, req, &delay);
	else
		reply(req, arg);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	struct evhttp *http;
	struct event *term;
	const char *body = argc > 2 && strcmp(argv[2], "telegram") == 0 ? telegram : accepted;
	long ms = argc > 3 ? strtol(argv[3], NULL, 10) : 0;

	base = event_base_new();
	http = evhttp_new(base);
	term = evsignal_new(base, SIGTERM, on_term, base);
	delay.tv_sec = ms / 1000;
	delay.tv_usec = ms % 1000 * 1000;
	body_of_all = body;

	if (argc < 2 ||
	    evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)strtol(argv[1], NULL, 10))) {
		fprintf(stderr, "usage: fakeserver PORT [202|telegram] [DELAY_MS]"
				" (the port must be free)\n");
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
