/*
 * botparams.c - libFuzzer target for gatewayd/botparams.c, a Bot API call's parameters:
 * the input is the query string, a newline, the Content-Type, a newline, then the body
 * (form, JSON or multipart); what is read must be one JSON object.
 */
#include "gatewayd/botparams.h"
#include "common/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* line - the next newline-ended piece of the input, as a string to free */
static char *line(const uint8_t **p, size_t *left)
{
	const uint8_t *nl = memchr(*p, '\n', *left);
	size_t n = nl ? (size_t)(nl - *p) : *left;
	char *s = malloc(n + 1);

	memcpy(s, *p, n);
	s[n] = '\0';
	*p += nl ? n + 1 : n;
	*left -= nl ? n + 1 : n;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;
	char *query = line(&p, &left);
	char *type = line(&p, &left);
	char *body = malloc(left ? left : 1);
	struct gw_botparams bp = { 0 };
	char err[256];
	yajl_val v;

	if (left)
		memcpy(body, p, left);
	if (gw_botparams_read(&bp, query[0] ? query : NULL, type, body, left, 4096, err,
			      sizeof(err))) {
		yajl_val o = tgm_json_parse(bp.json, strlen(bp.json), strlen(bp.json) + 1, 64, err,
					    sizeof(err));

		if (o == NULL || !YAJL_IS_OBJECT(o))
			abort();
		yajl_tree_free(o);
	}
	gw_botparams_free(&bp);
	v = gw_botparams_parse(query[0] ? query : NULL, type, body, left, err, sizeof(err));
	if (v != NULL) {
		int64_t i;

		(void)gw_botparams_int(v, "chat_id", &i);
		(void)gw_botparams_bool(v, "disable_notification");
		free(gw_botparams_strings(v, "allowed_updates"));
		yajl_tree_free(v);
	}
	free(query);
	free(type);
	free(body);
	return 0;
}
