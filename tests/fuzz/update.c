/*
 * update.c - fuzz the Telegram Update check of webhookd (wh_update_check in
 * webhookd/store.c): the input is a webhook body, parsed as webhookd/intake.c parses it,
 * checked as from Telegram and as one of webhookd's own updates.
 */
#include "tests/fuzz/fuzz.h"
#include "webhookd/webhookd.h"
#include "common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160];
	yajl_val u = tgm_json_parse((const char *)data, size, size, TGM_JSON_MAX_DEPTH, err,
				    sizeof(err));
	int64_t update_id, chat_id;
	const char *kind;

	if (u == NULL)
		return 0;
	if (wh_update_check(u, false, &update_id, &chat_id, &kind, err, sizeof(err)))
		FUZZ_ASSERT(update_id >= 0 && kind != NULL);
	if (wh_update_check(u, true, &update_id, &chat_id, &kind, err, sizeof(err)))
		FUZZ_ASSERT(kind != NULL && YAJL_IS_OBJECT(u));
	yajl_tree_free(u);
	return 0;
}
