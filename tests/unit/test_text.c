/*
 * test_text.c - the text catalog: English texts, the fallback for a language without
 * an entry, per-bot overrides from settings, {name} placeholders (cut on a
 * character boundary when out is short), and counts in their plural forms.
 */
#include "common/botset.h"
#include "common/json.h"
#include "common/text.h"
#include "tests/unit/unit.h"

static yajl_val parse(const char *s)
{
	char perr[256];

	return tgm_json_parse(s, strlen(s), 1 << 20, 8, perr, sizeof(perr));
}

static void test_lookup(void)
{
	CHECK_STR(tgm_text("welcome", NULL), TGM_TEXT_WELCOME);
	CHECK_STR(tgm_text("welcome", "en"), TGM_TEXT_WELCOME);
	CHECK_STR(tgm_text("welcome", "xx"), TGM_TEXT_WELCOME); /* no such language: English */
	CHECK_STR(tgm_text("no_credit", NULL), TGM_TEXT_NO_CREDIT);
	/* the setting's default is the catalog's English text: one copy */
	CHECK_STR(tgm_botset_str(NULL, "welcome"), tgm_text("welcome", NULL));
	CHECK_STR(tgm_botset_str(NULL, "no_credit_text"), tgm_text("no_credit", NULL));
}

static void test_override(void)
{
	yajl_val own = parse("{\"welcome\": \"Hello there!\", \"no_credit_text\": \"\"}");

	CHECK_STR(tgm_text_bot(own, "welcome", NULL), "Hello there!");
	CHECK_STR(tgm_text_bot(own, "no_credit", NULL), TGM_TEXT_NO_CREDIT); /* "" is unset */
	CHECK_STR(tgm_text_bot(NULL, "welcome", NULL), TGM_TEXT_WELCOME);
	CHECK(tgm_text_bot(own, "help", NULL) == tgm_text("help", NULL));
	yajl_tree_free(own);
}

static void test_fill(void)
{
	char out[64], tiny[8];

	CHECK_STR(tgm_text_fill(out, sizeof(out), "You got {credits} free credits.",
				(const char *const[]){ "credits", "20", NULL }),
		  "You got 20 free credits.");
	CHECK_STR(tgm_text_fill(out, sizeof(out), "{a}{b} {nope} {", (const char *const[]){
				"a", "x", "b", "y", NULL }), "xy {nope} {");
	CHECK_STR(tgm_text_fill(out, sizeof(out), "{a}", NULL), "{a}");
	/* "ab" then a 3-byte "€€" value: cut before the character that does not fit */
	CHECK_STR(tgm_text_fill(tiny, sizeof(tiny), "ab{v}", (const char *const[]){
				"v", "\xe2\x82\xac\xe2\x82\xac", NULL }), "ab\xe2\x82\xac");
}

static void test_count(void)
{
	char out[64];

	CHECK_STR(tgm_text_count(out, sizeof(out), "credits", 1, NULL), "1 credit");
	CHECK_STR(tgm_text_count(out, sizeof(out), "credits", -1, NULL), "-1 credit");
	CHECK_STR(tgm_text_count(out, sizeof(out), "credits", 0, NULL), "0 credits");
	CHECK_STR(tgm_text_count(out, sizeof(out), "credits", 12, "xx"), "12 credits");
	CHECK_STR(tgm_text_count(out, sizeof(out), "pass_days", 1, NULL),
		  "1 day of unlimited access");
	CHECK(tgm_text_has("credits_one") && tgm_text_has("welcome"));
	CHECK(!tgm_text_has("credits") && !tgm_text_has("no such text"));
}

int main(void)
{
	test_lookup();
	test_override();
	test_fill();
	test_count();
	return unit_done("test_text");
}
