/*
 * test_json.c - JSON parsing limits (size, depth, comments, NUL, bad UTF-8),
 * lookups by type, and generation round trips.
 */
#include "common/json.h"
#include "common/util.h"
#include "tests/unit/unit.h"

#include <stdlib.h>

static yajl_val parse(const char *s, char *err)
{
	return tgm_json_parse(s, strlen(s), 1024, 4, err, 256);
}

static void test_limits(void)
{
	char err[256], big[2048];
	yajl_val v;

	v = parse("{\"a\":[1,{\"b\":[2]}]}", err); /* depth 4 */
	CHECK(v != NULL);
	yajl_tree_free(v);
	CHECK(parse("{\"a\":[1,{\"b\":[[2]]}]}", err) == NULL); /* depth 5 */
	CHECK_CONTAINS(err, "deeper than 4");
	v = parse("[\"[[[[[[[[\", \"\\\"[[[[[\"]", err);
	CHECK(v != NULL);
	yajl_tree_free(v);
	memset(big, ' ', sizeof(big));
	big[0] = '1';
	CHECK(tgm_json_parse(big, sizeof(big), 1024, 4, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "larger than 1024");
	CHECK(parse("{\"a\":1 /* c */}", err) == NULL);
	CHECK_CONTAINS(err, "comments");
	CHECK(tgm_json_parse("{\"a\":\0}", 7, 1024, 4, err, sizeof(err)) == NULL);
	CHECK(parse("{\"a\":", err) == NULL);
	CHECK_CONTAINS(err, "invalid JSON");
	CHECK(parse("{\"a\":\"\xff\xfe\"}", err) == NULL); /* not UTF-8 */
	CHECK(parse("", err) == NULL);
	CHECK(parse("{\"a\":\"\xed\xa0\x80\"}", err) == NULL); /* an encoded surrogate */
	CHECK_CONTAINS(err, "UTF-8");
	v = parse("{\"a\":\"\\ud83d\\ude00 \\u00e9\"}", err); /* a pair and a 2-byte one */
	CHECK(v != NULL);
	yajl_tree_free(v);
	CHECK(parse("{\"a\":\"x\\u0000y\"}", err) == NULL); /* would cut the C string */
	CHECK_CONTAINS(err, "u0000");
	v = parse("{\"a\":\"\\\\u0000\"}", err); /* an escaped backslash, then text */
	CHECK(v != NULL);
	yajl_tree_free(v);
	CHECK(tgm_utf8_valid("plain \xc3\xa9 \xf0\x9f\x98\x80"));
	CHECK(!tgm_utf8_valid("\xc0\xaf"));         /* overlong "/" */
	CHECK(!tgm_utf8_valid("\xed\xa0\x80"));     /* encoded surrogate */
	CHECK(!tgm_utf8_valid("\xf4\x90\x80\x80")); /* past U+10FFFF */
	CHECK(!tgm_utf8_valid("\xe2\x82"));         /* truncated */
}

static void test_lookups(void)
{
	char err[256];
	yajl_val v = parse("{\"s\":\"x\",\"i\":-42,\"f\":1.5,\"t\":true,\"n\":null}", err);
	int64_t i = 0;
	bool b = false;

	CHECK(v != NULL);
	CHECK_STR(tgm_json_get_str(v, "s"), "x");
	CHECK(tgm_json_get_str(v, "i") == NULL);
	CHECK(tgm_json_get_int(v, "i", &i) && i == -42);
	CHECK(!tgm_json_get_int(v, "f", &i));
	CHECK(!tgm_json_get_int(v, "s", &i));
	CHECK(tgm_json_get_bool(v, "t", &b) && b);
	CHECK(!tgm_json_get_bool(v, "n", &b));
	CHECK(tgm_json_get(v, "missing") == NULL);
	CHECK(tgm_json_get(NULL, "s") == NULL);
	yajl_tree_free(v);
}

static void test_generate(void)
{
	char err[256];
	yajl_gen g = tgm_jgen_new();
	const char *text;
	size_t len;
	yajl_val v;

	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "text", "quote \" and \\ and \n");
	tgm_jgen_kint(g, "id", 9007199254740993LL);
	tgm_jgen_kbool(g, "ok", true);
	tgm_jgen_knull(g, "none");
	tgm_jgen_kstr(g, "null_str", NULL);
	yajl_gen_map_close(g);
	text = tgm_jgen_text(g, &len);
	CHECK_STR(text, "{\"text\":\"quote \\\" and \\\\ and \\n\",\"id\":9007199254740993,"
			"\"ok\":true,\"none\":null,\"null_str\":null}");
	v = tgm_json_parse(text, len, 1024, 4, err, sizeof(err));
	CHECK(v != NULL);
	CHECK_STR(tgm_json_get_str(v, "text"), "quote \" and \\ and \n");
	yajl_gen_free(g);
	g = tgm_jgen_new(); /* a tree copied out again is the same text */
	tgm_jgen_tree(g, v);
	CHECK_STR(tgm_jgen_text(g, NULL),
		  "{\"text\":\"quote \\\" and \\\\ and \\n\","
		  "\"id\":9007199254740993,\"ok\":true,\"none\":null,\"null_str\":null}");
	yajl_gen_free(g);
	yajl_tree_free(v);
}

/* canonical - the canonical text of s */
static char *canonical(const char *s)
{
	char err[256];
	yajl_val v = tgm_json_parse(s, strlen(s), 4096, 8, err, sizeof(err));
	yajl_gen g = tgm_jgen_new();
	char *out;

	tgm_jgen_canonical(g, v);
	out = tgm_xstrdup(tgm_jgen_text(g, NULL));
	yajl_gen_free(g);
	yajl_tree_free(v);
	return out;
}

static void test_canonical(void)
{
	char *a = canonical("{\"b\":1,\"a\":{\"z\":[{\"y\":2,\"x\":null}],\"c\":\"\u00e9\"}}");
	char *b = canonical(" {\n\"a\" : {\"c\":\"\u00e9\", \"z\":[ {\"x\":null,\t\"y\":2} ]},"
			    " \"b\":1 }");
	char *c = canonical("{\"a\":{\"c\":\"\u00e9\",\"z\":[{\"x\":null,\"y\":3}]},\"b\":1}");
	char *d = canonical("[2,1]");

	CHECK_STR(a, b);
	CHECK_STR(a, "{\"a\":{\"c\":\"\u00e9\",\"z\":[{\"x\":null,\"y\":2}]},\"b\":1}");
	CHECK(strcmp(a, c) != 0); /* another value */
	CHECK_STR(d, "[2,1]");    /* arrays keep their order */
	free(a);
	free(b);
	free(c);
	free(d);
}

/* invalid UTF-8 goes out with '?' for each non-ASCII byte: it never drops the string,
 * which would put every later value under the wrong key (a fuzzing finding) */
static void test_generate_invalid_utf8(void)
{
	yajl_gen g = tgm_jgen_new();

	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "a", "x\xff\xfey");
	tgm_jgen_kstr(g, "b", "ok");
	yajl_gen_map_close(g);
	CHECK_STR(tgm_jgen_text(g, NULL), "{\"a\":\"x??y\",\"b\":\"ok\"}");
	yajl_gen_free(g);
}

int main(void)
{
	test_limits();
	test_generate_invalid_utf8();
	test_lookups();
	test_generate();
	test_canonical();
	return unit_done("json");
}
