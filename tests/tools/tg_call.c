/*
 * tg_call.c - a test driver: make one Bot API call with tgm_tg_call and print how it
 * was classified, for tests/integration/test_httpc.py.
 *
 *   tg_call API_URL TOKEN METHOD JSON [TIMEOUT_MS [REPEAT]]
 *
 * Prints one line per call, e.g.
 *   class=FLOOD ok=0 code=429 retry_after=3 migrate=0 ambiguous=0 transport=0 desc=...
 * With REPEAT > 1 the calls are made one after another on the same client (the next
 * one is started from the previous one's callback), so they may share a connection.
 * Exits 0 once every call has printed its line, 2 on bad arguments.
 */
#include "common/httpc.h"
#include "common/telegram.h"
#include "common/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct run {
	struct event_base *base;
	struct tgm_httpc *c;
	char **argv;
	int timeout_ms;
	int64_t left;
};

static void start(struct run *r);

/* print_result - the one line; newlines in the description become spaces */
static void print_result(const struct tgm_tg_result *res)
{
	char desc[512];

	snprintf(desc, sizeof(desc), "%s", res->description ? res->description : "");
	for (char *p = desc; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	printf("class=%s ok=%d code=%d retry_after=%d migrate=%" PRId64
	       " ambiguous=%d transport=%d desc=%s\n",
	       tgm_tg_class_name(tgm_tg_classify(res)), res->ok, res->error_code,
	       res->retry_after, res->migrate_to_chat_id, res->ambiguous, res->transport_error,
	       desc);
	fflush(stdout);
}

static void on_result(const struct tgm_tg_result *res, void *arg)
{
	struct run *r = arg;

	print_result(res);
	if (--r->left > 0)
		start(r);
	else
		event_base_loopbreak(r->base);
}

static void start(struct run *r)
{
	const char *json = r->argv[4];

	tgm_tg_call(r->c, r->argv[1], r->argv[2], r->argv[3], json, strlen(json), r->timeout_ms,
		    on_result, r);
}

int main(int argc, char **argv)
{
	struct run r = { .argv = argv, .timeout_ms = 5000, .left = 1 };
	int64_t v;

	if (argc < 5 || argc > 7) {
		fprintf(stderr, "usage: tg_call API_URL TOKEN METHOD JSON [TIMEOUT_MS [REPEAT]]\n");
		return 2;
	}
	if (argc > 5 && (!tgm_parse_int64(argv[5], &v) || v < 1 || v > 3600000)) {
		fprintf(stderr, "tg_call: bad TIMEOUT_MS %s\n", argv[5]);
		return 2;
	}
	if (argc > 5)
		r.timeout_ms = (int)v;
	if (argc > 6 && (!tgm_parse_int64(argv[6], &r.left) || r.left < 1)) {
		fprintf(stderr, "tg_call: bad REPEAT %s\n", argv[6]);
		return 2;
	}
	r.base = event_base_new();
	r.c = tgm_httpc_new(r.base, 2);
	start(&r);
	event_base_dispatch(r.base);
	tgm_httpc_free(r.c);
	event_base_free(r.base);
	return r.left == 0 ? 0 : 1;
}
