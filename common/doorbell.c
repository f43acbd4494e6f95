/*
 * doorbell.c - the doorbell's encoder and parser (see doorbell.h).
 */
#include "common/doorbell.h"
#include "common/bus.h"
#include "common/json.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

size_t tgm_doorbell_encode(const struct tgm_doorbell *d, char *topic, char *json)
{
	snprintf(topic, TGM_DOORBELL_TOPIC_MAX, TGM_DOORBELL_PREFIX "%lld", (long long)d->bot_id);
	return (size_t)snprintf(json, TGM_DOORBELL_JSON_MAX, "{\"bot_id\":%lld%s}",
				(long long)d->bot_id, d->changed ? ",\"changed\":true" : "");
}

bool tgm_doorbell_parse(const char *topic, const char *json, size_t len, struct tgm_doorbell *out)
{
	const size_t plen = strlen(TGM_DOORBELL_PREFIX);
	yajl_val v;
	int64_t id;
	bool ok = true;

	if (strncmp(topic, TGM_DOORBELL_PREFIX, plen) != 0 ||
	    !tgm_parse_int64(topic + plen, &out->bot_id) || out->bot_id <= 0)
		return false;
	out->changed = false;
	v = tgm_json_parse(json, len, TGM_DOORBELL_JSON_MAX * 4, 2, NULL, 0);
	if (v == NULL)
		return true; /* the topic alone still wakes the lane */
	if (tgm_json_get_int(v, "bot_id", &id) && id != out->bot_id)
		ok = false;
	tgm_json_get_bool(v, "changed", &out->changed);
	yajl_tree_free(v);
	return ok;
}

void tgm_doorbell_ring(struct tgm_bus *b, int64_t bot_id, bool changed)
{
	struct tgm_doorbell d = { bot_id, changed };
	char topic[TGM_DOORBELL_TOPIC_MAX], json[TGM_DOORBELL_JSON_MAX];
	size_t n;

	if (bot_id <= 0)
		return;
	n = tgm_doorbell_encode(&d, topic, json);
	tgm_bus_send(b, topic, json, n);
}
