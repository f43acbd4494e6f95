/*
 * test_text.c - the text catalog: English texts, the fallback for a language without
 * an entry, per-bot overrides from settings, {name} placeholders (cut on a
 * character boundary when out is short), and counts in their plural forms.
 */
#include "common/botset.h"
#include "common/json.h"
#include "common/text.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <string.h>

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
	CHECK_STR(tgm_text_fill(out, sizeof(out), "{a}{b} {nope} {",
				(const char *const[]){ "a", "x", "b", "y", NULL }),
		  "xy {nope} {");
	CHECK_STR(tgm_text_fill(out, sizeof(out), "{a}", NULL), "{a}");
	/* "ab" then a 3-byte "€€" value: cut before the character that does not fit */
	CHECK_STR(tgm_text_fill(tiny, sizeof(tiny), "ab{v}",
				(const char *const[]){ "v", "\xe2\x82\xac\xe2\x82\xac", NULL }),
		  "ab\xe2\x82\xac");
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

/* every entry of the catalog is in Russian, and every count has Russian's forms */
static void test_russian_complete(void)
{
	const char *name;
	char base[64];
	size_t n = 0;

	for (size_t i = 0; (name = tgm_text_name(i)) != NULL; i++, n++) {
		if (tgm_text_in(name, "ru") == NULL)
			fprintf(stderr, "text %s has no Russian entry\n", name);
		CHECK(tgm_text_in(name, "ru") != NULL);
		/* a text that follows another starts with its space in every language */
		CHECK(tgm_text_in(name, "ru") == NULL ||
		      (tgm_text(name, "en")[0] == ' ') == (tgm_text_in(name, "ru")[0] == ' '));
		snprintf(base, sizeof(base), "%.*s_other", (int)strlen(name) - 4, name);
		if (strlen(name) > 4 && strcmp(name + strlen(name) - 4, "_one") == 0 &&
		    tgm_text_in(base, "en") != NULL) { /* a count: name_one and name_other */
			snprintf(base, sizeof(base), "%.*s_few", (int)strlen(name) - 4, name);
			CHECK(tgm_text_in(base, "ru") != NULL);
			snprintf(base, sizeof(base), "%.*s_many", (int)strlen(name) - 4, name);
			CHECK(tgm_text_in(base, "ru") != NULL);
		}
	}
	CHECK(n > 100);
	CHECK(tgm_text_has_lang("en") && tgm_text_has_lang("ru") && !tgm_text_has_lang("de"));
}

/* CLDR's Russian rule for integers; English's */
static void test_plural(void)
{
	static const struct {
		int64_t n;
		const char *ru, *en;
	} t[] = {
		{ 0, "many", "other" },   { 1, "one", "one" },      { 2, "few", "other" },
		{ 4, "few", "other" },    { 5, "many", "other" },   { 11, "many", "other" },
		{ 12, "many", "other" },  { 14, "many", "other" },  { 21, "one", "other" },
		{ 22, "few", "other" },   { 25, "many", "other" },  { 101, "one", "other" },
		{ 111, "many", "other" }, { 112, "many", "other" }, { 1002, "few", "other" },
		{ -1, "one", "one" },     { -3, "few", "other" },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_STR(tgm_text_plural("ru", t[i].n), t[i].ru);
		CHECK_STR(tgm_text_plural("en", t[i].n), t[i].en);
	}
	CHECK_STR(tgm_text_count(out, sizeof(out), "credits", 1, "ru"), "1 кредит");
	CHECK_STR(tgm_text_count(out, sizeof(out), "credits", 3, "ru"), "3 кредита");
	CHECK_STR(tgm_text_count(out, sizeof(out), "credits", 11, "ru"), "11 кредитов");
	CHECK_STR(tgm_text_count(out, sizeof(out), "credits", 21, "ru"), "21 кредит");
}

/* the user's language when the catalog (or the bot) speaks it, else the bot's, else English */
static void test_lang(void)
{
	yajl_val ru_bot = parse(
		"{\"language\": \"ru\", \"texts\": {\"de\": {\"welcome\": \"Hallo!\"}}}");
	char out[TGM_TEXT_LANG], n[64];

	CHECK_STR(tgm_text_lang(NULL, "ru", out), "ru");
	CHECK_STR(tgm_text_lang(NULL, "RU-ru", out), "ru");
	CHECK_STR(tgm_text_lang(NULL, "de", out), "en");
	CHECK_STR(tgm_text_lang(NULL, NULL, out), "en");
	CHECK_STR(tgm_text_lang(NULL, "x", out), "en");
	CHECK_STR(tgm_text_lang(NULL, "1234", out), "en");
	CHECK_STR(tgm_text_lang(ru_bot, "fr", out), "ru");
	CHECK_STR(tgm_text_lang(ru_bot, "de-AT", out), "de"); /* the bot speaks some German */
	/* German: the bot's own welcome, the rest in the bot's language (Russian) */
	CHECK_STR(tgm_text_bot(ru_bot, "welcome", "de"), "Hallo!");
	CHECK_STR(tgm_text_bot(ru_bot, "help", "de"), "Команды:");
	CHECK_STR(tgm_text_count_bot(n, sizeof(n), ru_bot, "credits", 2, "de"), "2 кредита");
	CHECK_STR(tgm_text_bot(ru_bot, "help", "en"), "Commands:");
	yajl_tree_free(ru_bot);
}

/* a bot's own texts: per language, over the catalog; the old settings speak the bot's language */
static void test_own_texts(void)
{
	yajl_val own = parse("{\"welcome\": \"Hi!\", \"texts\": {\"ru\": {\"welcome\": \"Привет!\","
			     " \"credits_few\": \"{n} монетки\"}, \"en\": {\"help\": \"Ask.\"}}}");
	char err[256], n[64];

	CHECK_STR(tgm_text_bot(own, "welcome", "ru"), "Привет!");
	CHECK_STR(tgm_text_bot(own, "welcome", "en"), "Hi!");
	CHECK_STR(tgm_text_bot(own, "help", "en"), "Ask.");
	CHECK_STR(tgm_text_bot(own, "help", "ru"), "Команды:");
	CHECK(!tgm_text_is_catalog("help", tgm_text_bot(own, "help", "en")));
	CHECK(tgm_text_is_catalog("help", tgm_text_bot(own, "help", "ru")));
	CHECK_STR(tgm_text_count_bot(n, sizeof(n), own, "credits", 3, "ru"), "3 монетки");
	CHECK_STR(tgm_text_count_bot(n, sizeof(n), own, "credits", 5, "ru"), "5 кредитов");
	CHECK(tgm_text_check(tgm_json_get(own, "texts"), err, sizeof(err)));
	yajl_tree_free(own);
	own = parse("{\"ru\": {\"no such\": \"x\"}}");
	CHECK(!tgm_text_check(own, err, sizeof(err)));
	CHECK_CONTAINS(err, "settings.texts.ru.no such is not a text of the catalog");
	yajl_tree_free(own);
	own = parse("{\"RU\": {}}");
	CHECK(!tgm_text_check(own, err, sizeof(err)));
	CHECK_CONTAINS(err, "language code");
	yajl_tree_free(own);
	own = parse("{\"ru\": {\"welcome\": 5}}");
	CHECK(!tgm_text_check(own, err, sizeof(err)));
	yajl_tree_free(own);
}

int main(void)
{
	test_russian_complete();
	test_plural();
	test_lang();
	test_own_texts();
	test_lookup();
	test_override();
	test_fill();
	test_count();
	return unit_done("test_text");
}
