/*
 * idempotency.c - fuzz the Idempotency-Key request hash of gatewayd/idem.c
 * (gw_idem_hash: SHA-256 of the item's canonical JSON). The canonical text of any
 * parsed body must parse again and hash the same, so a replay written differently is
 * still a replay.
 */
#include "tests/fuzz/fuzz.h"
#include "gatewayd/idem.h"
#include "common/json.h"
#include "common/utf8.h"
#include "common/util.h"

#define JSON_DEPTH 16 /* gatewayd/request.c */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], h1[65], h2[65], *canon;
	yajl_val v = tgm_json_parse((const char *)data, size, size, JSON_DEPTH, err, sizeof(err));
	yajl_val again;
	yajl_gen g;
	size_t len;

	if (v == NULL)
		return 0;
	gw_idem_hash(v, NULL, h1);
	g = tgm_jgen_new();
	tgm_jgen_canonical(g, v);
	canon = tgm_xstrdup(tgm_jgen_text(g, &len));
	yajl_gen_free(g);
	FUZZ_ASSERT(strlen(canon) == len && tgm_utf8_valid(canon));
	again = tgm_json_parse(canon, len, len, JSON_DEPTH, err, sizeof(err));
	if (again == NULL)
		fprintf(stderr, "canonical text does not parse: %s: %s\n", err, canon);
	FUZZ_ASSERT(again != NULL);
	gw_idem_hash(again, NULL, h2);
	FUZZ_ASSERT(strcmp(h1, h2) == 0);
	yajl_tree_free(again);
	yajl_tree_free(v);
	free(canon);
	return 0;
}
