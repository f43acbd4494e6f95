/*
 * json.c - libFuzzer target for common/json.c: bounded parsing of outside JSON (API
 * requests, Telegram updates and answers, Stripe events), then the canonical and plain
 * re-generation of whatever parsed, which must parse again to the same canonical text.
 */
#include "common/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* regenerate - v through gen (canonical or not); the text must parse again, and the
 * canonical text of that must be the canonical text of v (the Idempotency-Key request
 * hash, gatewayd/messages.c, hashes it: one JSON must give one text) */
static void regenerate(yajl_val v, void (*gen)(yajl_gen, yajl_val))
{
	yajl_gen g = tgm_jgen_new(), c1 = tgm_jgen_new(), c2 = tgm_jgen_new();
	char err[128];
	size_t len, n1, n2;
	const char *text, *t1, *t2;
	yajl_val again;

	gen(g, v);
	text = tgm_jgen_text(g, &len);
	again = tgm_json_parse(text, len, len + 1, TGM_JSON_MAX_DEPTH + 1, err, sizeof(err));
	if (again == NULL)
		abort();
	tgm_jgen_canonical(c1, v);
	tgm_jgen_canonical(c2, again);
	t1 = tgm_jgen_text(c1, &n1);
	t2 = tgm_jgen_text(c2, &n2);
	if (n1 != n2 || memcmp(t1, t2, n1) != 0)
		abort();
	yajl_tree_free(again);
	yajl_gen_free(g);
	yajl_gen_free(c1);
	yajl_gen_free(c2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exactly size bytes, not NUL-terminated: the parser must not read past them */
	char *text = malloc(size ? size : 1);
	char err[256];
	yajl_val v;
	int64_t i;
	bool b;

	if (size)
		memcpy(text, data, size);
	v = tgm_json_parse(text, size, 65536, 8, err, sizeof(err));
	if (v != NULL) {
		(void)tgm_json_get_str(v, "text");
		(void)tgm_json_get_int(v, "chat_id", &i);
		(void)tgm_json_get_bool(v, "ok", &b);
		regenerate(v, tgm_jgen_tree);
		regenerate(v, tgm_jgen_canonical);
		yajl_tree_free(v);
	} else if (strlen(err) >= sizeof(err)) {
		abort();
	}
	free(text);
	return 0;
}
