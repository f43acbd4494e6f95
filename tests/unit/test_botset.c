/*
 * test_botset.c - the bot settings table: each type's accepted and refused values,
 * ranges, unknown keys, non-objects, UTF-8, the error lines, and reads with defaults.
 */
#include "common/botset.h"
#include "common/json.h"
#include "tests/unit/unit.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char err[512];

static yajl_val parse(const char *s)
{
	char perr[256];
	yajl_val v = tgm_json_parse(s, strlen(s), 1 << 20, 8, perr, sizeof(perr));

	if (v == NULL)
		fprintf(stderr, "test_botset: cannot parse %s: %s\n", s, perr);
	return v;
}

/* ok - the settings text passes the check */
static bool ok(const char *s)
{
	yajl_val v = parse(s);
	bool r;

	err[0] = '\0';
	r = tgm_botset_check(v, err, sizeof(err));
	yajl_tree_free(v);
	return r;
}

/* refused - the settings text fails the check and err contains want */
static void refused(const char *s, const char *want)
{
	CHECK(!ok(s));
	CHECK_CONTAINS(err, want);
}

static void test_table(void)
{
	size_t n;
	const struct tgm_botset_key *k = tgm_botset_keys(&n);
	char buf[8192];

	CHECK(n == 32);
	CHECK_STR(k[0].name, "per_second");
	for (size_t i = 0; i < n; i++) {
		CHECK(k[i].help && k[i].help[0]);
		CHECK(k[i].def != NULL);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(k[i].name, k[j].name) != 0);
		/* every default passes its own check */
		if (k[i].type == TGM_BOTSET_STRING || k[i].type == TGM_BOTSET_CHOICE)
			snprintf(buf, sizeof(buf), "{\"%s\":\"%s\"}", k[i].name, k[i].def);
		else
			snprintf(buf, sizeof(buf), "{\"%s\":%s}", k[i].name, k[i].def);
		CHECK(ok(buf));
		CHECK(k[i].type != TGM_BOTSET_CHOICE || k[i].choices != NULL);
	}
}

static void test_shape(void)
{
	yajl_val v;

	CHECK(ok("{}"));
	CHECK(ok("{\"per_second\":100,\"paid_broadcast\":true,\"updates\":\"polling\","
		 "\"welcome\":\"Hi\",\"admin_chat_id\":-1001234567890,\"cost_video\":0}"));
	CHECK(!tgm_botset_check(NULL, err, sizeof(err)));
	CHECK_STR(err, "settings must be an object");
	refused("[1]", "settings must be an object");
	refused("\"fast\"", "settings must be an object");
	refused("null", "settings must be an object");
	refused("7", "settings must be an object");
	refused("{\"nope\":1}", "settings.nope is not a setting");
	CHECK_CONTAINS(err, "per_second, chat_per_second");
	CHECK_CONTAINS(err, "no_credit_text");
	refused("{\"per_second\":5,\"enabled\":true}", "settings.enabled is not a setting");
	refused("{\""
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"\":1}",
		"settings.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa... is not");
	/* a long unknown key is cut on a character's edge: the error stays UTF-8 */
	refused("{\""
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\xc3\xa9"
		"\":1}",
		"...");
	CHECK(tgm_utf8_valid(err));
	CHECK_CONTAINS(err, "settings.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa... is not");
	/* a small err buffer is cut, still terminated */
	v = parse("{\"nope\":1}");
	CHECK(!tgm_botset_check(v, err, 12));
	CHECK_STR(err, "settings.no");
	yajl_tree_free(v);
}

static void test_int(void)
{
	CHECK(ok("{\"per_second\":1}"));
	CHECK(ok("{\"per_second\":1000}"));
	CHECK(ok("{\"chat_per_second\":30,\"group_per_minute\":600}"));
	CHECK(ok("{\"free_credits\":0,\"low_balance\":1000000,\"cost_other\":1000000}"));
	CHECK(ok("{\"admin_chat_id\":-999999999999999}"));
	CHECK(ok("{\"admin_chat_id\":0}"));
	refused("{\"per_second\":0}", "settings.per_second must be an integer from 1 to 1000");
	refused("{\"per_second\":1001}", "settings.per_second must be an integer from 1 to 1000");
	refused("{\"chat_per_second\":31}",
		"settings.chat_per_second must be an integer from 1 to 30");
	refused("{\"group_per_minute\":0}", "from 1 to 600");
	refused("{\"admin_chat_id\":1}",
		"settings.admin_chat_id must be an integer from -999999999999999 to 0");
	refused("{\"admin_chat_id\":-1000000000000000}", "settings.admin_chat_id");
	refused("{\"free_credits\":-1}",
		"settings.free_credits must be an integer from 0 to 1000000");
	refused("{\"cost_text\":1000001}", "settings.cost_text");
	refused("{\"per_second\":1.5}", "settings.per_second must be an integer");
	refused("{\"per_second\":10.0}", "settings.per_second");
	refused("{\"per_second\":1e2}", "settings.per_second");
	refused("{\"per_second\":\"10\"}", "settings.per_second");
	refused("{\"per_second\":true}", "settings.per_second");
	refused("{\"per_second\":null}", "settings.per_second");
	refused("{\"per_second\":99999999999999999999999}", "settings.per_second");
	refused("{\"admin_chat_id\":-99999999999999999999999}", "settings.admin_chat_id");
}

static void test_bool(void)
{
	CHECK(ok("{\"paid_broadcast\":true,\"charge_messages\":false}"));
	refused("{\"paid_broadcast\":1}", "settings.paid_broadcast must be true or false");
	refused("{\"paid_broadcast\":\"yes\"}", "settings.paid_broadcast must be true or false");
	refused("{\"charge_messages\":null}", "settings.charge_messages must be true or false");
}

/* text_of - {"key":"<n times unit>"} */
static void text_of(char *buf, size_t size, const char *key, const char *unit, size_t n)
{
	size_t len;

	snprintf(buf, size, "{\"%s\":\"", key);
	for (size_t i = 0; i < n; i++) {
		len = strlen(buf);
		snprintf(buf + len, size - len, "%s", unit);
	}
	len = strlen(buf);
	snprintf(buf + len, size - len, "\"}");
}

static void test_string(void)
{
	static char buf[20000];
	yajl_val v;
	char yerr[128];

	CHECK(ok("{\"help\":\"\",\"welcome\":\"Hello \\\"there\\\"\\n\\u00e9\"}"));
	text_of(buf, sizeof(buf), "commands", "a", 200);
	CHECK(ok(buf));
	text_of(buf, sizeof(buf), "commands", "a", 201);
	refused(buf, "settings.commands must be a string of at most 200 bytes of UTF-8");
	text_of(buf, sizeof(buf), "topic_name", "\xc3\xa9", 64); /* 128 bytes */
	CHECK(ok(buf));
	text_of(buf, sizeof(buf), "topic_name", "\xc3\xa9", 65); /* 130 bytes, 65 characters */
	refused(buf, "settings.topic_name must be a string of at most 128 bytes");
	text_of(buf, sizeof(buf), "welcome", "x", 4096);
	CHECK(ok(buf));
	text_of(buf, sizeof(buf), "no_credit_text", "x", 4097);
	refused(buf, "settings.no_credit_text must be a string of at most 4096 bytes");
	refused("{\"welcome\":5}", "settings.welcome must be a string");
	refused("{\"welcome\":null}", "settings.welcome must be a string");
	refused("{\"help\":[\"a\"]}", "settings.help must be a string");
	/* yajl alone lets an encoded surrogate through; the check does not */
	v = yajl_tree_parse("{\"welcome\":\"a\xed\xa0\x80z\"}", yerr, sizeof(yerr));
	CHECK(v != NULL);
	CHECK(!tgm_botset_check(v, err, sizeof(err)));
	CHECK_CONTAINS(err, "settings.welcome must be a string of at most 4096 bytes of UTF-8");
	CHECK_STR(tgm_botset_str(v, "welcome"), "Welcome! Write here and we will answer you.");
	yajl_tree_free(v);
}

static void test_choice(void)
{
	const char *good[] = { "auto", "webhook", "polling", "off" };
	const char *bad[] = { "", "Auto", "web", "autox", "auto|webhook", "|", "off ", " off" };
	char buf[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"updates\":\"%s\"}", good[i]);
		CHECK(ok(buf));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"updates\":\"%s\"}", bad[i]);
		CHECK(!ok(buf));
		CHECK_STR(err, "settings.updates must be one of auto, webhook, polling, off");
	}
	refused("{\"updates\":1}", "settings.updates must be one of auto, webhook, polling, off");
	refused("{\"updates\":null}", "settings.updates must be one of");
}

static void test_defaults(void)
{
	yajl_val v = parse("[1]");

	CHECK(tgm_botset_int(NULL, "per_second") == 30);
	CHECK(tgm_botset_int(NULL, "chat_per_second") == 1);
	CHECK(tgm_botset_int(NULL, "group_per_minute") == 20);
	CHECK(!tgm_botset_bool(NULL, "paid_broadcast"));
	CHECK_STR(tgm_botset_str(NULL, "updates"), "auto");
	CHECK_STR(tgm_botset_str(NULL, "commands"),
		  "start help balance buy billing history autorecharge");
	CHECK_STR(tgm_botset_str(NULL, "welcome"), "Welcome! Write here and we will answer you.");
	CHECK_STR(tgm_botset_str(NULL, "help"), "");
	CHECK(tgm_botset_int(NULL, "free_credits") == 0);
	CHECK(tgm_botset_int(NULL, "low_balance") == 0);
	CHECK(tgm_botset_int(NULL, "admin_chat_id") == 0);
	CHECK_STR(tgm_botset_str(NULL, "topic_name"), "{first_name} @{username} #{user_id}");
	CHECK(!tgm_botset_bool(NULL, "charge_messages"));
	CHECK(tgm_botset_int(NULL, "cost_text") == 1);
	CHECK(tgm_botset_int(NULL, "cost_photo") == 2);
	CHECK(tgm_botset_int(NULL, "cost_video") == 3);
	CHECK(tgm_botset_int(NULL, "cost_voice") == 2);
	CHECK(tgm_botset_int(NULL, "cost_document") == 2);
	CHECK(tgm_botset_int(NULL, "cost_sticker") == 1);
	CHECK(tgm_botset_int(NULL, "cost_other") == 1);
	CHECK_STR(tgm_botset_str(NULL, "no_credit_text"),
		  "You have no credits left. Buy more to keep writing:");
	/* not an object: defaults */
	CHECK(tgm_botset_int(v, "per_second") == 30);
	CHECK_STR(tgm_botset_str(v, "updates"), "auto");
	yajl_tree_free(v);
}

static void test_reads(void)
{
	yajl_val v = parse("{\"per_second\":100,\"paid_broadcast\":true,\"updates\":\"off\","
			   "\"welcome\":\"Hi \\u00e9\",\"admin_chat_id\":-1001234567890,"
			   "\"help\":\"\",\"cost_video\":0}");
	yajl_val bad = parse(
		"{\"per_second\":\"100\",\"chat_per_second\":5000,"
		"\"paid_broadcast\":1,\"charge_messages\":\"true\",\"updates\":\"nope\","
		"\"welcome\":5,\"commands\":null,\"cost_text\":1.5,\"extra\":1}");

	CHECK(tgm_botset_int(v, "per_second") == 100);
	CHECK(tgm_botset_bool(v, "paid_broadcast"));
	CHECK_STR(tgm_botset_str(v, "updates"), "off");
	CHECK_STR(tgm_botset_str(v, "welcome"), "Hi \xc3\xa9");
	CHECK(tgm_botset_int(v, "admin_chat_id") == -1001234567890);
	CHECK_STR(tgm_botset_str(v, "help"), "");
	CHECK(tgm_botset_int(v, "cost_video") == 0);
	CHECK(tgm_botset_int(v, "chat_per_second") == 1); /* not stored */
	/* stored values of the wrong type or out of range: the defaults */
	CHECK(tgm_botset_int(bad, "per_second") == 30);
	CHECK(tgm_botset_int(bad, "chat_per_second") == 1);
	CHECK(!tgm_botset_bool(bad, "paid_broadcast"));
	CHECK(!tgm_botset_bool(bad, "charge_messages"));
	CHECK_STR(tgm_botset_str(bad, "updates"), "auto");
	CHECK_STR(tgm_botset_str(bad, "welcome"), "Welcome! Write here and we will answer you.");
	CHECK_STR(tgm_botset_str(bad, "commands"),
		  "start help balance buy billing history autorecharge");
	CHECK(tgm_botset_int(bad, "cost_text") == 1);
	yajl_tree_free(v);
	yajl_tree_free(bad);
}

/* aborts - the read is a bug: the child process dies of SIGABRT */
static bool aborts(int which, const char *key)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(3);
		if (which == 0)
			tgm_botset_int(NULL, key);
		else if (which == 1)
			tgm_botset_bool(NULL, key);
		else
			tgm_botset_str(NULL, key);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void test_bugs(void)
{
	CHECK(aborts(0, "nope"));
	CHECK(aborts(1, "nope"));
	CHECK(aborts(2, "nope"));
	CHECK(aborts(0, "welcome"));
	CHECK(aborts(0, "paid_broadcast"));
	CHECK(aborts(1, "per_second"));
	CHECK(aborts(1, "updates"));
	CHECK(aborts(2, "per_second"));
	CHECK(aborts(2, "charge_messages"));
	CHECK(!aborts(0, "per_second"));
	CHECK(!aborts(2, "updates"));
}

int main(void)
{
	test_table();
	test_shape();
	test_int();
	test_bool();
	test_string();
	test_choice();
	test_defaults();
	test_reads();
	test_bugs();
	return unit_done("test_botset");
}
