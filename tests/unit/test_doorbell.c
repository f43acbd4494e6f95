/*
 * test_doorbell.c - the doorbell's encoder and parser: what one daemon rings is what
 * senderd hears, and anything else is no doorbell.
 */
#include "common/doorbell.h"
#include "tests/unit/unit.h"

/* roundtrip - encode d, parse it back; true when the parse matched */
static bool roundtrip(int64_t bot_id, bool changed, struct tgm_doorbell *out)
{
	struct tgm_doorbell d = { bot_id, changed };
	char topic[TGM_DOORBELL_TOPIC_MAX], json[TGM_DOORBELL_JSON_MAX];
	size_t n = tgm_doorbell_encode(&d, topic, json);

	return tgm_doorbell_parse(topic, json, n, out);
}

static void test_encode(void)
{
	struct tgm_doorbell d = { 42, false }, c = { 9223372036854775807LL, true };
	char topic[TGM_DOORBELL_TOPIC_MAX], json[TGM_DOORBELL_JSON_MAX];
	size_t n;

	n = tgm_doorbell_encode(&d, topic, json);
	CHECK_STR(topic, "bot.42");
	CHECK_STR(json, "{\"bot_id\":42}");
	CHECK(n == strlen(json));
	n = tgm_doorbell_encode(&c, topic, json);
	CHECK_STR(topic, "bot.9223372036854775807");
	CHECK_STR(json, "{\"bot_id\":9223372036854775807,\"changed\":true}");
	CHECK(n == strlen(json));
}

static void test_roundtrip(void)
{
	struct tgm_doorbell out;

	CHECK(roundtrip(42, false, &out) && out.bot_id == 42 && !out.changed);
	CHECK(roundtrip(7, true, &out) && out.bot_id == 7 && out.changed);
	CHECK(roundtrip(9223372036854775807LL, true, &out) && out.bot_id == 9223372036854775807LL);
}

static void test_parse_refuses(void)
{
	struct tgm_doorbell out;
	const char *j = "{\"bot_id\":42}";

	CHECK(!tgm_doorbell_parse("msg.sent", j, strlen(j), &out));
	CHECK(!tgm_doorbell_parse("bot.", j, strlen(j), &out));
	CHECK(!tgm_doorbell_parse("bot.x42", j, strlen(j), &out));
	CHECK(!tgm_doorbell_parse("bot.42x", j, strlen(j), &out));
	CHECK(!tgm_doorbell_parse("bot.0", "{}", 2, &out));
	CHECK(!tgm_doorbell_parse("bot.-3", "{}", 2, &out));
	CHECK(!tgm_doorbell_parse("bot.43", j, strlen(j), &out)); /* names another bot */
}

static void test_parse_lenient(void)
{
	struct tgm_doorbell out;
	const char *s;

	/* the topic alone is enough: a broken or empty JSON still wakes the lane */
	CHECK(tgm_doorbell_parse("bot.5", "", 0, &out) && out.bot_id == 5 && !out.changed);
	CHECK(tgm_doorbell_parse("bot.5", "{", 1, &out) && out.bot_id == 5 && !out.changed);
	s = "{\"changed\":false}";
	CHECK(tgm_doorbell_parse("bot.5", s, strlen(s), &out) && !out.changed);
	/* "changed" is a JSON true, not a string that happens to contain it */
	s = "{\"bot_id\":5,\"note\":\"\\\"changed\\\":true\"}";
	CHECK(tgm_doorbell_parse("bot.5", s, strlen(s), &out) && !out.changed);
	s = "{ \"changed\" : true , \"bot_id\" : 5 }";
	CHECK(tgm_doorbell_parse("bot.5", s, strlen(s), &out) && out.changed);
}

int main(void)
{
	test_encode();
	test_roundtrip();
	test_parse_refuses();
	test_parse_lenient();
	return unit_done("doorbell");
}
