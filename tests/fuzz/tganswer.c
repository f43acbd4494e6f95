/*
 * tganswer.c - libFuzzer target for common/tganswer.c, the one-pass reading of a Bot
 * API answer (senderd's every send), held against the tree tgm_json_parse builds: what
 * the one pass accepts the tree accepts too, with the same ok, error_code, description,
 * parameters and message_id; and what the tree accepts the one pass accepts, unless it
 * holds a \u escape, a vertical tab or form feed, or text after its value (yajl lets lone
 * surrogates, those blanks and a cut token after the value through; the one pass is
 * strict about them).
 */
#include "common/json.h"
#include "common/tganswer.h"
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>

/* int_of - key's integer in obj, as tgm_json_get_int reads it */
static bool int_of(yajl_val obj, const char *key, int64_t *v)
{
	*v = 0;
	return tgm_json_get_int(obj, key, v);
}

/* same - a (the one pass) reads what the tree root holds */
static void same(const struct tgm_tganswer *a, yajl_val root)
{
	yajl_val params = tgm_json_get(root, "parameters"), result = tgm_json_get(root, "result");
	const char *desc = tgm_json_get_str(root, "description");
	bool ok = false, has;
	int64_t v;

	FUZZ_ASSERT(a->has_ok == tgm_json_get_bool(root, "ok", &ok) && (!a->has_ok || a->ok == ok));
	FUZZ_ASSERT(a->has_error_code == int_of(root, "error_code", &v) && a->error_code == v);
	FUZZ_ASSERT((a->description == NULL) == (desc == NULL));
	FUZZ_ASSERT(desc == NULL || strcmp(a->description, desc) == 0);
	FUZZ_ASSERT(a->has_retry_after == int_of(params, "retry_after", &v) && a->retry_after == v);
	FUZZ_ASSERT(a->has_migrate_to_chat_id == int_of(params, "migrate_to_chat_id", &v) &&
		    a->migrate_to_chat_id == v);
	has = int_of(result, "message_id", &v);
	if (!has && result && YAJL_IS_INTEGER(result)) {
		has = true;
		v = YAJL_GET_INTEGER(result);
	}
	FUZZ_ASSERT(a->has_message_id == has && a->message_id == v);
}

/* lenient - text the tree may accept and the one pass refuse (err: why it did) */
static bool lenient(const char *t, size_t n, const char *err)
{
	return memmem(t, n, "\\u", 2) || memchr(t, '\v', n) || memchr(t, '\f', n) ||
	       strstr(err, "text after the JSON value");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1), err[256], terr[256];
	struct tgm_tganswer a;
	yajl_val root;
	bool json;

	if (text == NULL)
		abort();
	memcpy(text, data, size); /* exactly size bytes: ASan sees a read past them */
	json = tgm_tganswer_parse(&a, text, size, err, sizeof(err));
	root = tgm_json_parse(text, size, size, TGM_JSON_MAX_DEPTH, terr, sizeof(terr));
	FUZZ_ASSERT(json || strncmp(err, "invalid JSON: ", 14) == 0);
	FUZZ_ASSERT(json || (a.description == NULL && !a.has_ok));
	if (json) {
		FUZZ_ASSERT(root != NULL);
		same(&a, root);
	} else if (root != NULL) {
		FUZZ_ASSERT(lenient(text, size, err));
	}
	yajl_tree_free(root);
	tgm_tganswer_free(&a);
	free(text);
	return 0;
}
