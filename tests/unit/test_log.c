/*
 * test_log.c - the logger never writes a secret: bot tokens, Stripe keys, API keys,
 * bearer tokens and URL passwords are redacted; other text is left alone.
 */
#include "common/log.h"
#include "tests/unit/unit.h"

#include <stdlib.h>

static const char *redacted(const char *in)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s", in);
	tgm_redact(buf);
	return buf;
}

int main(void)
{
	CHECK_STR(redacted("bot=42 token=123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw done"),
		  "bot=42 token=123456789:*** done");
	CHECK_STR(redacted("GET https://api.telegram.org/bot123456789:"
			   "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe"),
		  "GET https://api.telegram.org/bot123456789:***/getMe");
	CHECK_STR(redacted("key sk_test_51HxYz and whsec_abcdef"), "key sk_test_*** and whsec_***");
	CHECK_STR(redacted("Authorization: Bearer tgmk_abcdefghij"), "Authorization: Bearer ***");
	CHECK_STR(redacted("api key tgmk_AbCdEf0123"), "api key tgmk_***");
	CHECK_STR(redacted("postgresql://tgm:hunter2@db/tgm"), "postgresql://tgm:***@db/tgm");
	CHECK_STR(redacted("host=db password=hunter2 user=x"), "host=db password=*** user=x");
	CHECK_STR(redacted("msg=9001 chat=-100123 sent ms=180"),
		  "msg=9001 chat=-100123 sent ms=180");
	CHECK_STR(redacted("time 12:30:45 ratio 1:2"), "time 12:30:45 ratio 1:2");
	CHECK_STR(redacted("postgresql:///tgm?host=/tmp"), "postgresql:///tgm?host=/tmp");
	/* a secret shorter than the stars: the text must not grow past its buffer (found by
	 * tests/fuzz/telegram.c) */
	CHECK_STR(redacted("rk_test_n"), "rk_test_*");
	CHECK_STR(redacted("password=ab user=x"), "password=** user=x");
	CHECK_STR(redacted("postgresql://u:p@db"), "postgresql://u:*@db");
	{
		char *line = malloc(10);

		memcpy(line, "sk_live_x", 10); /* exactly its size: ASan sees a write past it */
		tgm_redact(line);
		CHECK_STR(line, "sk_live_*");
		free(line);
	}
	CHECK(tgm_log_level_parse("debug") == TGM_LOG_DEBUG);
	CHECK(tgm_log_level_parse("warning") == TGM_LOG_WARNING);
	CHECK(tgm_log_level_parse("loud") == -1);
	return unit_done("log");
}
