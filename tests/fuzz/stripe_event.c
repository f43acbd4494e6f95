/*
 * stripe_event.c - fuzz the Stripe event body checks of webhookd/stripe.c: the input
 * is a (verified) webhook body, parsed as parse_event parses it, then event_check and
 * object_id, the parts that read it before it is stored.
 */
#include "tests/fuzz/fuzz.h"
#include "webhookd/stripe.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	const char *field, *id;
	yajl_val ev = tgm_json_parse((const char *)data, size, size, TGM_JSON_MAX_DEPTH, err,
				     sizeof(err));

	if (ev == NULL)
		return 0;
	if (event_check(ev, &field, err, sizeof(err))) {
		id = tgm_json_get_str(ev, "id");
		FUZZ_ASSERT(id && strncmp(id, "evt_", 4) == 0 && strlen(id) <= EVENT_ID_MAX);
		(void)object_id(ev);
	} else {
		FUZZ_ASSERT(err[0] != '\0');
	}
	yajl_tree_free(ev);
	return 0;
}
