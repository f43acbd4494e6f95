/*
 * test_telegram.c - tgm_tg_classify on hand-made results, one row of docs/telegram.md
 * section 4 each; then three calls that need no HTTP server (an unsupported scheme,
 * a refused connection, a listener that never answers and a client freed under it):
 * callbacks never run inside the call, the token never reaches the description.
 * Everything with a real server is in tests/integration/test_httpc.py.
 */
#include "common/httpc.h"
#include "common/telegram.h"
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define TOKEN "123456:SECRETSECRET"

static struct tgm_tg_result res(int code, const char *desc)
{
	struct tgm_tg_result r = { .error_code = code, .description = desc, .retry_after = -1 };

	return r;
}

static enum tgm_tg_class cls(struct tgm_tg_result r)
{
	return tgm_tg_classify(&r);
}

static void test_classify_answers(void)
{
	struct tgm_tg_result r = res(200, NULL);

	r.ok = true;
	CHECK(cls(r) == TGM_TG_OK);
	r = res(429, "Too Many Requests: retry after 35");
	r.retry_after = 35;
	CHECK(cls(r) == TGM_TG_FLOOD);
	CHECK(cls(res(500, "Internal Server Error: restart")) == TGM_TG_RETRY);
	CHECK(cls(res(503, "Service Unavailable")) == TGM_TG_RETRY);
	r = res(400, "Bad Request: group chat was upgraded to a supergroup chat");
	r.migrate_to_chat_id = -1001234567890;
	CHECK(cls(r) == TGM_TG_MIGRATED);
	CHECK(cls(res(403, "Forbidden: bot was blocked by the user")) == TGM_TG_CHAT_GONE);
	CHECK(cls(res(403, "Forbidden: user is deactivated")) == TGM_TG_CHAT_GONE);
	CHECK(cls(res(403, "Forbidden: bot was kicked from the supergroup chat")) ==
	      TGM_TG_CHAT_GONE);
	CHECK(cls(res(403, "Forbidden: bot is not a member of the channel chat")) ==
	      TGM_TG_CHAT_GONE);
	CHECK(cls(res(403, "Forbidden: the group chat was deleted")) == TGM_TG_CHAT_GONE);
	CHECK(cls(res(400, "Bad Request: chat not found")) == TGM_TG_CHAT_GONE);
	CHECK(cls(res(400, "Bad Request: private chat not found")) == TGM_TG_CHAT_GONE);
	CHECK(cls(res(400, "Bad Request: user not found")) == TGM_TG_CHAT_GONE);
	CHECK(cls(res(401, "Unauthorized")) == TGM_TG_TOKEN_DEAD);
	CHECK(cls(res(404, "Not Found: method not found")) == TGM_TG_TOKEN_DEAD);
	CHECK(cls(res(400, "Bad Request: message is too long")) == TGM_TG_BAD_REQUEST);
	CHECK(cls(res(400, "Bad Request: message thread not found")) == TGM_TG_BAD_REQUEST);
	CHECK(cls(res(400, NULL)) == TGM_TG_BAD_REQUEST);
	CHECK(cls(res(409, "Conflict: terminated by other getUpdates request")) ==
	      TGM_TG_BAD_REQUEST);
}

static void test_classify_transport(void)
{
	struct tgm_tg_result r = res(0, "Failed to connect to 127.0.0.1 port 9");

	r.transport_error = true;
	CHECK(cls(r) == TGM_TG_RETRY); /* before sending */
	r.ambiguous = true;
	CHECK(cls(r) == TGM_TG_AMBIGUOUS); /* after sending */
	r = res(502, "HTTP 502 with a body that is not a Bot API answer");
	r.transport_error = true;
	CHECK(cls(r) == TGM_TG_RETRY);
	r = res(429, "HTTP 429 with a body that is not a Bot API answer");
	r.transport_error = true;
	r.retry_after = 3;
	CHECK(cls(r) == TGM_TG_FLOOD);
	r = res(200, "HTTP 200 with a body that is not a Bot API answer");
	r.transport_error = r.ambiguous = true;
	CHECK(cls(r) == TGM_TG_AMBIGUOUS);
	r = res(403, "HTTP 403 with a body that is not a Bot API answer");
	r.transport_error = true;
	CHECK(cls(r) == TGM_TG_BAD_REQUEST); /* a proxy's page says nothing of the chat */
	r = res(404, "HTTP 404 with a body that is not a Bot API answer");
	r.transport_error = true;
	CHECK(cls(r) == TGM_TG_TOKEN_DEAD);
	r = res(200, "transport");
	r.ok = r.transport_error = true; /* never OK without a usable answer */
	CHECK(cls(r) != TGM_TG_OK);
}

static void test_class_names(void)
{
	CHECK_STR(tgm_tg_class_name(TGM_TG_OK), "OK");
	CHECK_STR(tgm_tg_class_name(TGM_TG_RETRY), "RETRY");
	CHECK_STR(tgm_tg_class_name(TGM_TG_FLOOD), "FLOOD");
	CHECK_STR(tgm_tg_class_name(TGM_TG_MIGRATED), "MIGRATED");
	CHECK_STR(tgm_tg_class_name(TGM_TG_CHAT_GONE), "CHAT_GONE");
	CHECK_STR(tgm_tg_class_name(TGM_TG_TOKEN_DEAD), "TOKEN_DEAD");
	CHECK_STR(tgm_tg_class_name(TGM_TG_BAD_REQUEST), "BAD_REQUEST");
	CHECK_STR(tgm_tg_class_name(TGM_TG_AMBIGUOUS), "AMBIGUOUS");
	CHECK_STR(tgm_tg_class_name((enum tgm_tg_class)99), "UNKNOWN");
}

struct outcome {
	int calls;
	struct tgm_httpc *again; /* when set, the first callback makes one more call */
	const char *url;
	enum tgm_tg_class cls, first; /* the last and the first call's class */
	bool transport, ambiguous;
	char desc[256];
	struct event_base *base;
};

static void on_result(const struct tgm_tg_result *r, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->cls = tgm_tg_classify(r);
	if (o->calls == 1)
		o->first = o->cls;
	o->transport = r->transport_error;
	o->ambiguous = r->ambiguous;
	snprintf(o->desc, sizeof(o->desc), "%s", r->description ? r->description : "");
	event_base_loopbreak(o->base);
	if (o->again && o->calls == 1)
		tgm_tg_call(o->again, o->url, TOKEN, "sendMessage", "{}", 2, 1000, on_result, o);
}

/* listener - a socket on 127.0.0.1 that listens (or, closed, refuses); its url */
static int listener(bool listening, char *url, size_t size)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0 || listen(fd, 8) != 0)
		return -1;
	snprintf(url, size, "http://127.0.0.1:%d", ntohs(a.sin_port));
	if (!listening) {
		close(fd);
		return -2;
	}
	return fd;
}

/* call_once - one sendMessage through a fresh client; loops until the answer */
static void call_once(const char *api_url, int timeout_ms, struct outcome *o)
{
	struct event_base *base = event_base_new();
	struct tgm_httpc *c = tgm_httpc_new(base, 2);
	static const char json[] = "{\"chat_id\":1,\"text\":\"hi\"}";

	o->base = base;
	tgm_tg_call(c, api_url, TOKEN, "sendMessage", json, sizeof(json) - 1, timeout_ms, on_result,
		    o);
	CHECK(o->calls == 0); /* never inside the call */
	CHECK(tgm_httpc_inflight(c) == 1);
	event_base_dispatch(base);
	CHECK(tgm_httpc_inflight(c) == 0);
	tgm_httpc_free(c);
	event_base_free(base);
}

static void test_no_server(void)
{
	struct outcome o = { 0 };
	char url[64];

	call_once("nosuchscheme://127.0.0.1", 1000, &o);
	CHECK(o.calls == 1);
	CHECK(o.cls == TGM_TG_RETRY && o.transport && !o.ambiguous);
	CHECK(strstr(o.desc, "SECRET") == NULL);

	memset(&o, 0, sizeof(o));
	CHECK(listener(false, url, sizeof(url)) == -2);
	call_once(url, 2000, &o);
	CHECK(o.calls == 1);
	CHECK(o.cls == TGM_TG_RETRY && o.transport && !o.ambiguous);
	CHECK(strstr(o.desc, "SECRET") == NULL && strstr(o.desc, "sendMessage") == NULL);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/*
 * test_free_inflight - a request that left but got no answer completes on free, and
 * one made from its callback fails the same way, still inside tgm_httpc_free
 */
static void test_free_inflight(void)
{
	struct event_base *base = event_base_new();
	struct tgm_httpc *c = tgm_httpc_new(base, 2);
	struct event *tick = evtimer_new(base, on_tick, base);
	struct timeval tv = { 0, 300 * 1000 };
	struct outcome o = { .base = base };
	char url[64];
	int fd = listener(true, url, sizeof(url));

	CHECK(fd >= 0);
	o.again = c;
	o.url = url;
	tgm_tg_call(c, url, TOKEN, "sendMessage", "{}", 2, 10000, on_result, &o);
	evtimer_add(tick, &tv);
	event_base_dispatch(base); /* connected (the kernel accepts) and sent */
	CHECK(o.calls == 0);
	CHECK(tgm_httpc_inflight(c) == 1);
	tgm_httpc_free(c);
	CHECK(o.calls == 2);
	CHECK(o.first == TGM_TG_AMBIGUOUS);                          /* it had left */
	CHECK(o.cls == TGM_TG_RETRY && o.transport && !o.ambiguous); /* the second never left */
	CHECK_STR(o.desc, "client closed");
	event_free(tick);
	event_base_free(base);
	close(fd);
}

/* test_command - the one /command parser: name, bot, args */
static void test_command(void)
{
	char name[8];
	const char *args = NULL;

	CHECK(tgm_tg_command("/Buy10@MyBot  on 5", "mybot", name, sizeof(name), &args));
	CHECK_STR(name, "buy10");
	CHECK_STR(args, "on 5");
	CHECK(!tgm_tg_command("/buy@OtherBot", "mybot", name, sizeof(name), &args));
	CHECK(!tgm_tg_command("buy", "mybot", name, sizeof(name), &args));
	CHECK(tgm_tg_command("/start\npaid_x", "mybot", name, sizeof(name), &args));
	CHECK_STR(name, "start");
	CHECK_STR(args, "paid_x");
	CHECK(tgm_tg_command("/autorecharge", "mybot", name, sizeof(name), NULL));
	CHECK_STR(name, "autorec"); /* cut to the buffer */
}

int main(void)
{
	test_command();
	test_classify_answers();
	test_classify_transport();
	test_class_names();
	test_no_server();
	test_free_inflight();
	return unit_done("telegram");
}
