/*
 * tg_call.c - a test driver: make one Bot API call with tgm_tg_call and print how it
 * was classified, for tests/integration/test_httpc.py.
 *
 *   tg_call API_URL TOKEN METHOD JSON [TIMEOUT_MS [REPEAT [PARALLEL [PAUSE_MS]]]]
 *
 * JSON is the request body, or @FILE to read it from a file (for bodies too big for argv),
 * or a list of files "@FILE,@FILE2": the n-th call started sends the n-th, the last one
 * repeating (small and large bodies in turn on one client's handles).
 * TIMEOUT_MS (default 5000) may be a list "3000,3000,600": the n-th call started uses the
 * n-th value, the last one repeating.
 * Prints one line per call, e.g.
 *   class=FLOOD ok=0 code=429 retry_after=3 migrate=0 ambiguous=0 transport=0 head=1 desc=...
 * head: ms from the answer's first bytes (first_byte_ms) to the callback, -1 when none.
 * With REPEAT > 1 the calls are made one after another on the same client (the next
 * one is started from the previous one's callback), so they may share a connection.
 * PARALLEL (default 1) such chains run at once on that client (2 connections at most).
 * PAUSE_MS (default 0): a chain's next call starts that long after the previous answer.
 * Exits 0 once every call has printed its line, 2 on bad arguments.
 */
#include "common/httpc.h"
#include "common/telegram.h"
#include "common/util.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct run {
	struct event_base *base;
	struct tgm_httpc *c;
	char **argv;
	char *json[8]; /* the bodies, in the order the calls take them */
	size_t len[8];
	int nbodies;
	const char *timeouts;
	int started;
	int64_t left;    /* calls not started yet */
	int64_t running; /* chains still going */
	int64_t pause_ms;
};

static void start(struct run *r);

/* print_result - the one line; newlines in the description become spaces */
static void print_result(const struct tgm_tg_result *res)
{
	char desc[512];
	int64_t head = res->first_byte_ms ? tgm_mono_ms() - res->first_byte_ms : -1;

	snprintf(desc, sizeof(desc), "%s", res->description ? res->description : "");
	for (char *p = desc; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	printf("class=%s ok=%d code=%d retry_after=%d migrate=%" PRId64
	       " ambiguous=%d transport=%d head=%" PRId64 " desc=%s\n",
	       tgm_tg_class_name(tgm_tg_classify(res)), res->ok, res->error_code, res->retry_after,
	       res->migrate_to_chat_id, res->ambiguous, res->transport_error, head, desc);
	fflush(stdout);
}

/* on_pause - a chain's pause is over: its next call */
static void on_pause(evutil_socket_t fd, short what, void *arg)
{
	start(arg);
}

/* on_result - print; start the chain's next call (after the pause), or stop when all
 * are done */
static void on_result(const struct tgm_tg_result *res, void *arg)
{
	struct run *r = arg;
	struct timeval tv = { r->pause_ms / 1000, (r->pause_ms % 1000) * 1000 };

	print_result(res);
	if (r->left > 0 && r->pause_ms > 0)
		event_base_once(r->base, -1, EV_TIMEOUT, on_pause, r, &tv);
	else if (r->left > 0)
		start(r);
	else if (--r->running == 0)
		event_base_loopbreak(r->base);
}

/* timeout_for - the n-th value of a "a,b,c" list (the last one repeats); -1 if invalid */
static int timeout_for(const char *list, int n)
{
	const char *p = list, *w;
	char num[16];
	size_t len;
	int64_t v = -1;

	while ((w = tgm_words_next(&p, &len)) != NULL) {
		snprintf(num, sizeof(num), "%.*s", (int)len, w);
		if (!tgm_parse_int64(num, &v) || v < 1 || v > 3600000)
			return -1;
		if (n-- == 0)
			break;
	}
	return (int)v;
}

/* start - the next call */
static void start(struct run *r)
{
	int b = r->started < r->nbodies ? r->started : r->nbodies - 1;

	r->left--;
	tgm_tg_call(r->c, r->argv[1], r->argv[2], r->argv[3], r->json[b], r->len[b],
		    timeout_for(r->timeouts, r->started++), on_result, r);
}

/* load_json - the JSON argument, or the contents of each @FILE of a list; false if one is
 * unreadable */
static bool load_json(struct run *r, const char *arg)
{
	char *list, *save = NULL;
	bool ok = true;

	if (arg[0] != '@') {
		r->json[0] = tgm_xstrdup(arg);
		r->len[0] = strlen(arg);
		r->nbodies = 1;
		return true;
	}
	list = tgm_xstrdup(arg);
	for (char *f = strtok_r(list, ",", &save); f && ok; f = strtok_r(NULL, ",", &save)) {
		int n = r->nbodies;

		if (n == 8) {
			fprintf(stderr, "tg_call: at most 8 bodies\n");
			ok = false;
		} else if ((r->json[n] = tgm_read_file(f + (f[0] == '@'), 64 * 1024 * 1024,
						       &r->len[n])) == NULL) {
			perror(f);
			ok = false;
		} else {
			r->nbodies++;
		}
	}
	free(list);
	return ok && r->nbodies > 0;
}

int main(int argc, char **argv)
{
	struct run r = { .argv = argv, .timeouts = "5000", .left = 1, .running = 1 };

	if (argc < 5 || argc > 9) {
		fprintf(stderr, "usage: tg_call API_URL TOKEN METHOD JSON "
				"[TIMEOUT_MS [REPEAT [PARALLEL [PAUSE_MS]]]]\n");
		return 2;
	}
	if (argc > 5)
		r.timeouts = argv[5];
	if (timeout_for(r.timeouts, INT_MAX) < 0) { /* checks every value */
		fprintf(stderr, "tg_call: bad TIMEOUT_MS %s\n", r.timeouts);
		return 2;
	}
	if (argc > 6 && (!tgm_parse_int64(argv[6], &r.left) || r.left < 1)) {
		fprintf(stderr, "tg_call: bad REPEAT %s\n", argv[6]);
		return 2;
	}
	if (argc > 7 && (!tgm_parse_int64(argv[7], &r.running) || r.running < 1)) {
		fprintf(stderr, "tg_call: bad PARALLEL %s\n", argv[7]);
		return 2;
	}
	if (argc > 8 &&
	    (!tgm_parse_int64(argv[8], &r.pause_ms) || r.pause_ms < 0 || r.pause_ms > 3600000)) {
		fprintf(stderr, "tg_call: bad PAUSE_MS %s\n", argv[8]);
		return 2;
	}
	r.left *= r.running;
	if (!load_json(&r, argv[4])) {
		for (int i = 0; i < r.nbodies; i++)
			free(r.json[i]);
		return 2;
	}
	r.base = event_base_new();
	r.c = tgm_httpc_new(r.base, 2);
	for (int64_t i = r.running; i > 0; i--)
		start(&r);
	event_base_dispatch(r.base);
	tgm_httpc_free(r.c);
	event_base_free(r.base);
	for (int i = 0; i < r.nbodies; i++)
		free(r.json[i]);
	return r.running == 0 ? 0 : 1;
}
