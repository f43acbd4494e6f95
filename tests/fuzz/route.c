/*
 * route.c - fuzz the request line's path and query as gatewayd and webhookd read them:
 * the input is a request URI, split by libevent, its path matched against the route
 * patterns of both daemons (common/http.c's match) and its query parsed as
 * gatewayd/request.c parses it. A matched path's parameters are whole path segments.
 */
#include "tests/fuzz/fuzz.h"
#include "common/http.c"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>

static const char *const patterns[] = {
	"/v1/keys/{id}",
	"/v1/bots/{id}/products/{product_id}",
	"/v1/bots/{id}/users/{user_id}/credits",
	"/v1/messages/{id}/cancel",
	"/v1/messages",
	"/v1/exports/messages.csv",
	"/api/send/{bot_id}",
	"/bot{token}/{method}",
	"/telegram/{bot_id}",
	"/stripe",
	"/",
};

/* check_params - every value a non-empty segment, found again by its name */
static void check_params(const char *pattern, const struct tgm_http_params *p)
{
	for (int i = 0; i < p->n; i++) {
		const char *close = strchr(p->name[i], '}');
		char name[32];

		FUZZ_ASSERT(close && p->value[i][0] && strchr(p->value[i], '/') == NULL);
		snprintf(name, sizeof(name), "%.*s", (int)(close - p->name[i]), p->name[i]);
		FUZZ_ASSERT(tgm_http_param(p, name) != NULL);
		FUZZ_ASSERT(p->name[i] > pattern);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct evhttp_uri *uri = evhttp_uri_parse(s);
	const char *path = uri ? evhttp_uri_get_path(uri) : s;
	const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
	struct tgm_http_params p;
	struct evkeyvalq query;

	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		if (match(patterns[i], path ? path : "/", &p))
			check_params(patterns[i], &p);
	TAILQ_INIT(&query);
	if (q && evhttp_parse_query_str(q, &query) == 0)
		(void)evhttp_find_header(&query, "limit");
	evhttp_clear_headers(&query);
	if (uri)
		evhttp_uri_free(uri);
	free(s);
	return 0;
}
