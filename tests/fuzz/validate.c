/*
 * validate.c - libFuzzer target for gatewayd/validate.c, message validation: the input
 * is a request body as POST /v1/messages receives it, parsed with the same limits and
 * turned into a message or a problem; a refusal must name a status and a reason.
 */
#include "gatewayd/validate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	char err[256];
	yajl_val v;

	if (size)
		memcpy(text, data, size);
	v = tgm_json_parse(text, size, 65536, TGM_JSON_MAX_DEPTH, err, sizeof(err));
	if (v != NULL) {
		struct gw_problem pb = { 0 };
		struct gw_msg *m = gw_validate_message(v, 1, size & 1 ? 42 : 0, &pb);
		int64_t epoch;

		if (m == NULL && (pb.status < 400 || pb.detail[0] == '\0'))
			abort();
		if (m != NULL && (m->chat == NULL || m->method == NULL || m->params == NULL))
			abort();
		gw_msg_free(m);
		if (YAJL_IS_STRING(v))
			(void)gw_parse_time(YAJL_GET_STRING(v), &epoch);
		yajl_tree_free(v);
	}
	free(text);
	return 0;
}
