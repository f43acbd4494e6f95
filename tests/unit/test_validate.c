/*
 * test_validate.c - gatewayd's message validation (gatewayd/validate.c): what a good
 * request becomes, each field's refusal with its problem, the RFC 3339 times, and
 * lengths counted in UTF-16 as Telegram counts them.
 */
#include "gatewayd/validate.h"
#include "common/utf8.h"
#include "tests/unit/unit.h"

#include <stdlib.h>

static struct gw_problem pb;

/* check - validate the JSON text s (path bot path_bot); the message or NULL */
static struct gw_msg *check(const char *s, int64_t path_bot)
{
	char err[256];
	yajl_val v = tgm_json_parse(s, strlen(s), 1 << 20, 16, err, sizeof(err));
	struct gw_msg *m;

	if (v == NULL) {
		fprintf(stderr, "bad test JSON %s: %s\n", s, err);
		return NULL;
	}
	memset(&pb, 0, sizeof(pb));
	m = gw_validate_message(v, 7, path_bot, &pb);
	yajl_tree_free(v);
	return m;
}

/* refused - s is refused with status 422 on field, its detail containing what */
static int refused(const char *s, const char *field, const char *what)
{
	struct gw_msg *m = check(s, 0);

	if (m) {
		gw_msg_free(m);
		fprintf(stderr, "accepted: %s\n", s);
		return 0;
	}
	if (pb.status != 422 || strcmp(pb.field, field) != 0 || !strstr(pb.detail, what)) {
		fprintf(stderr, "%s: %d field=%s detail=%s\n", s, pb.status, pb.field, pb.detail);
		return 0;
	}
	return 1;
}

static void test_text_message(void)
{
	struct gw_msg *m = check("{\"chat_id\":42,\"text\":\"hi\",\"parse_mode\":\"HTML\","
				 "\"priority\":\"bulk\",\"ttl_seconds\":60,\"bot_id\":3,"
				 "\"idempotency_key\":\"k1\",\"metadata\":{\"a\":1},"
				 "\"callback_url\":\"https://example.com/cb\"}",
				 0);

	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK(m->tenant_id == 7 && m->bot_id == 3);
	CHECK_STR(m->chat, "42");
	CHECK_STR(m->method, "sendMessage");
	CHECK_STR(m->params, "{\"chat_id\":42,\"text\":\"hi\",\"parse_mode\":\"HTML\"}");
	CHECK(m->priority == 2 && m->ttl_seconds == 60);
	CHECK_STR(m->idem_key, "k1");
	CHECK_STR(m->metadata, "{\"a\":1}");
	CHECK_STR(m->callback_url, "https://example.com/cb");
	CHECK(m->send_at == NULL);
	gw_msg_free(m);
}

static void test_media_and_chats(void)
{
	struct gw_msg *m;

	m = check(
		"{\"chat_id\":\"@My_Channel\",\"photo\":\"https://x.org/a.jpg\",\"caption\":\"c\"}",
		0);
	CHECK(m && !strcmp(m->method, "sendPhoto") && !strcmp(m->chat, "@my_channel"));
	gw_msg_free(m);
	m = check("{\"chat_id\":\"-1001234\",\"document\":\"BQACAgIAAx\"}", 5);
	CHECK(m && !strcmp(m->method, "sendDocument") && !strcmp(m->chat, "-1001234"));
	CHECK(m && m->bot_id == 5); /* the bot of the path */
	gw_msg_free(m);
	m = check("{\"chat_id\":1,\"text\":\"x\",\"send_at\":0}", 0);
	CHECK(m && m->send_at && !strcmp(m->send_at, "1970-01-01T00:00:00Z"));
	gw_msg_free(m);
	m = check("{\"chat_id\":1,\"text\":\"x\",\"send_at\":\"2026-11-23T12:00:00.5+01:00\"}", 0);
	CHECK(m && m->send_at && !strcmp(m->send_at, "2026-11-23T12:00:00.5+01:00"));
	gw_msg_free(m);
}

static void test_refusals(void)
{
	CHECK(refused("[1]", "", "JSON object"));
	CHECK(refused("{\"text\":\"x\"}", "chat_id", "required"));
	CHECK(refused("{\"chat_id\":0,\"text\":\"x\"}", "chat_id", "range"));
	CHECK(refused("{\"chat_id\":true,\"text\":\"x\"}", "chat_id", "integer"));
	CHECK(refused("{\"chat_id\":1,\"text\":\"x\",\"colour\":1}", "colour", "unknown field"));
	CHECK(refused("{\"chat_id\":1}", "text", ""));
	CHECK(refused("{\"chat_id\":1,\"text\":\"\"}", "text", "empty"));
	CHECK(refused("{\"chat_id\":1,\"text\":\"x\",\"caption\":\"c\"}", "caption", "photo"));
	CHECK(refused("{\"chat_id\":1,\"photo\":\"ftp://x/y\"}", "photo", "http(s)"));
	CHECK(refused("{\"chat_id\":1,\"text\":\"x\",\"parse_mode\":\"rtf\"}", "parse_mode",
		      "HTML"));
	CHECK(refused("{\"chat_id\":1,\"text\":\"x\",\"reply_markup\":[]}", "reply_markup",
		      "object"));
	CHECK(refused("{\"chat_id\":1,\"text\":\"x\",\"priority\":\"urgent\"}", "priority",
		      "bulk"));
	CHECK(refused("{\"chat_id\":1,\"text\":\"x\",\"send_at\":\"tomorrow\"}", "send_at",
		      "RFC 3339"));
	CHECK(refused("{\"chat_id\":1,\"text\":\"x\",\"send_at\":-1}", "send_at", "range"));
	CHECK(refused("{\"chat_id\":1,\"text\":\"x\",\"ttl_seconds\":0}", "ttl_seconds", "1 to"));
	CHECK(refused("{\"chat_id\":1,\"text\":\"x\",\"ttl_seconds\":2592001}", "ttl_seconds",
		      "1 to"));
	CHECK(refused("{\"chat_id\":1,\"text\":\"x\",\"bot_id\":-2}", "bot_id", "positive"));
	CHECK(refused("{\"chat_id\":1,\"text\":\"x\",\"callback_url\":\"file:///etc\"}",
		      "callback_url", "http(s)"));
	CHECK(refused("{\"chat_id\":1,\"text\":\"x\",\"metadata\":\"m\"}", "metadata", "object"));
	CHECK(refused("{\"chat_id\":1,\"text\":\"x\",\"idempotency_key\":\"\"}", "idempotency_key",
		      "1 to 255"));
	/* a bot in the body must agree with the path's */
	CHECK(check("{\"chat_id\":1,\"text\":\"x\",\"bot_id\":4}", 5) == NULL);
	CHECK(strcmp(pb.field, "bot_id") == 0 && strstr(pb.detail, "path"));
}

/* test_lengths - 4096 characters of text as Telegram counts them: UTF-16 units */
static void test_lengths(void)
{
	size_t size = 4096 * 4 + 64, n;
	char *big = malloc(size);
	struct gw_msg *m;

	CHECK(tgm_utf16_length("abc") == 3);
	CHECK(tgm_utf16_length("\xc3\xa9") == 1);         /* é */
	CHECK(tgm_utf16_length("\xf0\x9f\x98\x80") == 2); /* an emoji: a surrogate pair */
	{
		char cut[] = "ab\xc3\xa9\xf0\x9f\x98\x80z";

		tgm_utf16_truncate(cut, 4); /* the emoji would be units 4 and 5: it goes whole */
		CHECK(strcmp(cut, "ab\xc3\xa9") == 0);
		tgm_utf16_truncate(cut, 3);
		CHECK(strcmp(cut, "ab\xc3\xa9") == 0);
		tgm_utf16_truncate(cut, 1);
		CHECK(strcmp(cut, "a") == 0);
	}
	n = (size_t)snprintf(big, size, "{\"chat_id\":1,\"text\":\"");
	for (int i = 0; i < 2048; i++) /* 2048 emoji = 4096 units */
		n += (size_t)snprintf(big + n, size - n, "\xf0\x9f\x98\x80");
	snprintf(big + n, size - n, "\"}");
	m = check(big, 0);
	CHECK(m != NULL);
	gw_msg_free(m);
	snprintf(big + n, size - n, "a\"}");
	CHECK(refused(big, "text", "4096"));
	free(big);
}

static void test_times(void)
{
	int64_t t;

	CHECK(gw_parse_time("1970-01-01T00:00:00Z", &t) && t == 0);
	CHECK(gw_parse_time("2026-11-23T12:00:00+01:00", &t) && t == 1795431600);
	CHECK(gw_valid_time("2024-02-29T23:59:59.123Z"));
	CHECK(!gw_valid_time("2023-02-29T00:00:00Z")); /* not a leap year */
	CHECK(!gw_valid_time("2026-13-01T00:00:00Z"));
	CHECK(!gw_valid_time("2026-11-23X12:00:00Z"));
	CHECK(!gw_valid_time("2026-11-23T12:00:00")); /* no zone */
	CHECK(!gw_valid_time("2026-11-23T24:00:00Z"));
}

int main(void)
{
	test_text_message();
	test_media_and_chats();
	test_refusals();
	test_lengths();
	test_times();
	return unit_done("validate");
}
