/*
 * test_tganswer.c - the one-pass reading of Bot API answers (common/tganswer.c): the
 * fields senderd acts on, wherever they sit among nested objects and arrays; escapes in
 * the description; big and odd numbers; message_id taken from result only; invalid and
 * truncated JSON refused; and the same answers read by tgm_tg_answer_lean and
 * tgm_tg_answer_read (the tree) to the same result.
 */
#include "common/json.h"
#include "common/telegram.h"
#include "common/tganswer.h"
#include "tests/unit/unit.h"

#include <stdlib.h>

static char err[256];

/* parse - s into a; true when it is JSON */
static bool parse(struct tgm_tganswer *a, const char *s)
{
	err[0] = '\0';
	return tgm_tganswer_parse(a, s, strlen(s), err, sizeof(err));
}

/* valid - s is JSON (whatever it holds) */
static bool valid(const char *s)
{
	struct tgm_tganswer a;
	bool ok = parse(&a, s);

	tgm_tganswer_free(&a);
	return ok;
}

static void test_ok_answer(void)
{
	struct tgm_tganswer a;

	CHECK(parse(&a,
		    "{\"ok\":true,\"result\":{\"message_id\":4711,\"from\":{\"id\":1,"
		    "\"is_bot\":true,\"first_name\":\"b\"},\"chat\":{\"id\":-100123,\"type\":"
		    "\"group\"},\"date\":1700000000,\"text\":\"hi\",\"entities\":[{\"offset\":0,"
		    "\"length\":2,\"type\":\"bold\"}]}}"));
	CHECK(a.has_ok && a.ok);
	CHECK(a.has_message_id && a.message_id == 4711);
	CHECK(!a.has_error_code && a.description == NULL && !a.has_retry_after &&
	      !a.has_migrate_to_chat_id);
	tgm_tganswer_free(&a);
	CHECK(a.description == NULL && !a.has_ok);
	/* keys in another order, whitespace everywhere, result an integer or true */
	CHECK(parse(&a, " \r\n\t{ \"result\" : 42 , \"ok\" : true } \n"));
	CHECK(a.has_ok && a.ok && a.has_message_id && a.message_id == 42);
	tgm_tganswer_free(&a);
	CHECK(parse(&a, "{\"ok\":true,\"result\":true}"));
	CHECK(a.has_ok && a.ok && !a.has_message_id);
	tgm_tganswer_free(&a);
	/* copyMessage: {"message_id":...} */
	CHECK(parse(&a, "{\"ok\":true,\"result\":{\"message_id\":9}}"));
	CHECK(a.has_message_id && a.message_id == 9);
	tgm_tganswer_free(&a);
}

static void test_message_id_in_result_only(void)
{
	struct tgm_tganswer a;

	/* a reply's own message_id, deeper, comes first: not ours */
	CHECK(parse(&a, "{\"ok\":true,\"result\":{\"reply_to_message\":{\"message_id\":1},"
			"\"message_id\":2}}"));
	CHECK(a.has_message_id && a.message_id == 2);
	tgm_tganswer_free(&a);
	CHECK(parse(&a,
		    "{\"message_id\":5,\"ok\":true,\"result\":{\"pinned\":{\"message_id\":6}}}"));
	CHECK(a.has_ok && !a.has_message_id);
	tgm_tganswer_free(&a);
	/* a message_id inside parameters or an array of results is none either */
	CHECK(parse(&a, "{\"ok\":true,\"parameters\":{\"message_id\":7},"
			"\"result\":[{\"message_id\":8}]}"));
	CHECK(!a.has_message_id);
	tgm_tganswer_free(&a);
	/* the keys a sender reads, nested where they mean nothing */
	CHECK(parse(&a, "{\"result\":{\"ok\":false,\"error_code\":400,\"description\":\"no\","
			"\"parameters\":{\"retry_after\":3}},\"ok\":true}"));
	CHECK(a.has_ok && a.ok && !a.has_error_code && a.description == NULL && !a.has_retry_after);
	tgm_tganswer_free(&a);
	/* the first of a repeated key wins, as tgm_json_get finds it, whatever its type */
	CHECK(parse(&a,
		    "{\"ok\":true,\"result\":{\"message_id\":1,\"message_id\":2},\"ok\":false}"));
	CHECK(a.ok && a.message_id == 1);
	tgm_tganswer_free(&a);
	CHECK(parse(&a, "{\"ok\":\"yes\",\"ok\":true}"));
	CHECK(!a.has_ok);
	tgm_tganswer_free(&a);
	CHECK(parse(&a, "{\"ok\":true,\"result\":{\"message_id\":\"1\",\"message_id\":2}}"));
	CHECK(!a.has_message_id);
	tgm_tganswer_free(&a);
	/* a key spelled with escapes is the same key */
	CHECK(parse(&a, "{\"\\u006fk\":true,\"res\\u0075lt\":{\"message\\u005fid\":3}}"));
	CHECK(a.has_ok && a.ok && a.message_id == 3);
	tgm_tganswer_free(&a);
	/* a long key that begins like one is another */
	CHECK(parse(&a, "{\"okokokokokokokokokokokokokokokokokok\":true}"));
	CHECK(!a.has_ok);
	tgm_tganswer_free(&a);
	/* a document that is no object, or an object without ok */
	CHECK(parse(&a, "[{\"ok\":true}]"));
	CHECK(!a.has_ok);
	tgm_tganswer_free(&a);
	CHECK(parse(&a, "\"ok\""));
	CHECK(!a.has_ok);
	tgm_tganswer_free(&a);
}

static void test_errors(void)
{
	struct tgm_tganswer a;

	CHECK(parse(&a, "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: "
			"retry after 35\",\"parameters\":{\"retry_after\":35}}"));
	CHECK(a.has_ok && !a.ok && a.has_error_code && a.error_code == 429);
	CHECK_STR(a.description, "Too Many Requests: retry after 35");
	CHECK(a.has_retry_after && a.retry_after == 35);
	tgm_tganswer_free(&a);
	CHECK(parse(
		&a,
		"{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: group "
		"chat was upgraded to a supergroup chat\",\"parameters\":{\"migrate_to_chat_id\":"
		"-1001234567890}}"));
	CHECK(a.has_migrate_to_chat_id && a.migrate_to_chat_id == -1001234567890LL);
	tgm_tganswer_free(&a);
	/* escapes in the description: each kind, a 2-byte, a 3-byte and a surrogate pair */
	CHECK(parse(&a,
		    "{\"ok\":false,\"description\":\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti"
		    " \\u00e9 \\u20AC \\ud83d\\ude00 raw \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}"));
	CHECK_STR(a.description, "a\"b\\c/d\be\ff\ng\rh\ti \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"
				 " raw \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	tgm_tganswer_free(&a);
	CHECK(parse(&a, "{\"description\":\"\"}"));
	CHECK_STR(a.description, "");
	CHECK(!a.has_ok);
	tgm_tganswer_free(&a);
	/* a description that is not a string is none */
	CHECK(parse(&a, "{\"ok\":false,\"description\":{\"text\":\"x\"}}"));
	CHECK(a.description == NULL);
	tgm_tganswer_free(&a);
}

static void test_numbers(void)
{
	struct tgm_tganswer a;

	CHECK(parse(&a, "{\"ok\":true,\"result\":{\"message_id\":9223372036854775807}}"));
	CHECK(a.has_message_id && a.message_id == INT64_MAX);
	tgm_tganswer_free(&a);
	CHECK(parse(&a, "{\"parameters\":{\"migrate_to_chat_id\":-9223372036854775807}}"));
	CHECK(a.has_migrate_to_chat_id && a.migrate_to_chat_id == -INT64_MAX);
	tgm_tganswer_free(&a);
	/* past the range, or with a fraction or an exponent: a number, not an integer */
	static const char *const not_int[] = {
		"9223372036854775808",
		"-9223372036854775808",
		"123456789012345678901234567890",
		"1.0",
		"1e3",
		"1E+3",
		"-0.5e-7",
	};
	for (size_t i = 0; i < sizeof(not_int) / sizeof(not_int[0]); i++) {
		char doc[128];

		snprintf(doc, sizeof(doc), "{\"ok\":false,\"error_code\":%s}", not_int[i]);
		CHECK(parse(&a, doc));
		CHECK(a.has_ok && !a.has_error_code);
		tgm_tganswer_free(&a);
	}
	CHECK(parse(&a, "{\"error_code\":-0}"));
	CHECK(a.has_error_code && a.error_code == 0);
	tgm_tganswer_free(&a);
	CHECK(valid("[0,-1,10,1.5,-0.0,2e10,2E-3,3e+2,null,true,false,\"\",{},[]]"));
}

static void test_invalid(void)
{
	static const char *const bad[] = {
		"",
		"   ",
		"{",
		"{\"ok\":true",
		"{\"ok\":true,",
		"{\"ok\":tru}",
		"{\"ok\":t",
		"{\"ok\":true,\"description\":\"cut",
		"{\"ok\":true,\"description\":\"cut\\",
		"{\"ok\":true,\"description\":\"\\u00\"}",
		"{\"ok\":true}}",
		"{\"ok\":true} x",
		"{\"ok\":true}{}",
		"{ok:true}",
		"{'ok':true}",
		"{\"ok\" true}",
		"{\"ok\":true,}",
		"[1,]",
		"[1 2]",
		"{\"a\":01}",
		"{\"a\":-}",
		"{\"a\":1.}",
		"{\"a\":1e}",
		"{\"a\":.5}",
		"{\"a\":+1}",
		"{\"a\":NaN}",
		"{\"a\":\"\\x\"}",
		"{\"a\":\"tab\there\"}",
		"{\"a\":\"\\u0000\"}",
		"{\"a\":\"\\ud800\"}",
		"{\"a\":\"\\ud800x\"}",
		"{\"a\":\"\\udc00\"}",
		"{\"a\":\"\\ud800\\u0041\"}",
		"{\"a\":\"\xff\"}",
		"{\"a\":\"\xc0\xaf\"}",
		"{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":\"\xf4\x90\x80\x80\"}",
		"{\"a\":\"\xe2\x82\"}",
		"{\"a\":1 /* c */}",
		"<html>502 Bad Gateway</html>",
		"{\"a\":\v1}",
	};
	struct tgm_tganswer a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool ok = parse(&a, bad[i]);

		CHECK(!ok);
		if (ok)
			fprintf(stderr, "  accepted: %s\n", bad[i]);
		CHECK_CONTAINS(err, "invalid JSON");
		CHECK(a.description == NULL && !a.has_ok);
		tgm_tganswer_free(&a);
	}
	CHECK(!tgm_tganswer_parse(&a, "{\"a\":\0}", 7, err, sizeof(err)));
	CHECK(!tgm_tganswer_parse(&a, "{\"a\":\"\0\"}", 8, err, sizeof(err)));
	/* a truncated answer, cut at every byte: never an answer, never past the end */
	const char *full = "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many \\u00e9\","
			   "\"parameters\":{\"retry_after\":35}}";
	for (size_t n = 0; n < strlen(full); n++) {
		char *cut = malloc(n ? n : 1); /* exactly n bytes: ASan sees a read past them */

		memcpy(cut, full, n);
		CHECK(!tgm_tganswer_parse(&a, cut, n, err, sizeof(err)));
		tgm_tganswer_free(&a);
		free(cut);
	}
}

static void test_depth(void)
{
	char deep[200];
	int n = 0;

	n += snprintf(deep + n, sizeof(deep) - (size_t)n, "{\"ok\":true,\"result\":");
	for (int i = 0; i < TGM_JSON_MAX_DEPTH - 1; i++)
		deep[n++] = '[';
	for (int i = 0; i < TGM_JSON_MAX_DEPTH - 1; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';
	CHECK(valid(deep)); /* 32 levels */
	memmove(deep + 1, deep, (size_t)n + 1);
	deep[0] = '[';
	deep[n + 1] = ']';
	deep[n + 2] = '\0';
	CHECK(!valid(deep)); /* 33 */
	CHECK_CONTAINS(err, "deep");
}

/* same - the lean and the tree reading of an HTTP answer agree */
static bool same(long status, const char *body)
{
	struct tgm_httpc_resp h = {
		.status = status, .body = body, .len = strlen(body), .retry_after = -1
	};
	struct tgm_tg_answer t, l;
	bool eq;

	tgm_tg_answer_read(&t, &h, "1:TOKEN");
	tgm_tg_answer_lean(&l, &h, "1:TOKEN");
	eq = t.r.ok == l.r.ok && t.r.error_code == l.r.error_code &&
	     t.r.retry_after == l.r.retry_after &&
	     t.r.migrate_to_chat_id == l.r.migrate_to_chat_id && t.r.message_id == l.r.message_id &&
	     t.r.transport_error == l.r.transport_error && t.r.ambiguous == l.r.ambiguous &&
	     tgm_tg_classify(&t.r) == tgm_tg_classify(&l.r) &&
	     ((t.r.description == NULL && l.r.description == NULL) ||
	      (t.r.description && l.r.description &&
	       (strcmp(t.r.description, l.r.description) == 0 || t.r.transport_error)));
	if (!eq)
		fprintf(stderr, "  differ on %ld %s: %s / %s\n", status, body,
			t.r.description ? t.r.description : "-",
			l.r.description ? l.r.description : "-");
	CHECK(l.r.result == NULL);
	tgm_tg_answer_free(&t);
	tgm_tg_answer_free(&l);
	return eq;
}

static void test_lean_as_tree(void)
{
	CHECK(same(200, "{\"ok\":true,\"result\":{\"message_id\":12,\"chat\":{\"id\":5}}}"));
	CHECK(same(200, "{\"ok\":true,\"result\":7}"));
	CHECK(same(200, "{\"ok\":true,\"result\":true}"));
	CHECK(same(429, "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: "
			"retry after 5\",\"parameters\":{\"retry_after\":5}}"));
	CHECK(same(429, "{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":"
			"99999999999}}"));
	CHECK(same(400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat "
			"not found\"}"));
	CHECK(same(400, "{\"ok\":false,\"error_code\":400,\"parameters\":{\"migrate_to_chat_id\":"
			"-100777}}"));
	CHECK(same(403, "{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: bot was "
			"blocked by the user (1:TOKEN)\"}"));
	CHECK(same(401, "{\"ok\":false,\"error_code\":1401}"));
	CHECK(same(500, "{\"ok\":true,\"result\":{\"message_id\":1}}"));
	CHECK(same(200, "{\"result\":{\"message_id\":1}}"));
	CHECK(same(502, "<html>Bad Gateway</html>"));
	CHECK(same(200, ""));
	CHECK(same(200, "{\"ok\":true"));
}

int main(void)
{
	test_ok_answer();
	test_message_id_in_result_only();
	test_errors();
	test_numbers();
	test_invalid();
	test_depth();
	test_lean_as_tree();
	return unit_done("tganswer");
}
