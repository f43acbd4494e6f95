/*
 * test_config.c - configuration parsing: defaults, good files, every kind of bad
 * line or value (each one error naming file, line and key), environment overrides,
 * credentials, and the defaults printer.
 */
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/tgm-unit-XXXXXX";

static const char *write_conf(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* load_error - load text, expect failure, return the error (static buffer) */
static const char *load_error(const char *text)
{
	static char err[512];
	struct tgm_config *cfg = tgm_config_load(write_conf("bad.conf", text), err, sizeof(err));

	if (cfg) {
		tgm_config_free(cfg);
		return "(loaded)";
	}
	return err;
}

static void test_defaults(void)
{
	char err[512];
	struct tgm_config *cfg = tgm_config_load(write_conf("empty.conf", ""), err, sizeof(err));

	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_STR(cfg->database.url, "postgresql:///tgm");
	CHECK_STR(cfg->telegram.api_url, "https://api.telegram.org");
	CHECK_STR(cfg->gatewayd.listen, "127.0.0.1:8080");
	CHECK(cfg->log.level == TGM_LOG_INFO);
	CHECK(cfg->stripe.webhook_tolerance == 300);
	CHECK_STR(cfg->security.secret_key, "");
	tgm_config_free(cfg);
}

static void test_good_file(void)
{
	char err[512];
	unsigned char key[32];
	struct tgm_config *cfg = tgm_config_load(
		write_conf(
			"good.conf",
			"# comment\n; another\n\n[database]\nurl = \"postgresql:///x?host=/tmp\"\n"
			"connect_timeout=7\n[log]\n  level = debug  \n[gatewayd]\nlisten = [::1]:9000\n"
			"[senderd]\ndoorbells = ipc:///a, tcp://127.0.0.1:5555\n[security]\nsecret_key = "
			"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"),
		err, sizeof(err));

	CHECK(cfg != NULL);
	if (cfg == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_STR(cfg->database.url, "postgresql:///x?host=/tmp");
	CHECK(cfg->database.connect_timeout == 7);
	CHECK(cfg->log.level == TGM_LOG_DEBUG);
	CHECK_STR(cfg->gatewayd.listen, "[::1]:9000");
	CHECK(tgm_config_secret_key(cfg, key) == 0 && key[0] == 0 && key[31] == 0x1f);
	tgm_config_free(cfg);
}

static void test_bad_files(void)
{
	CHECK_CONTAINS(load_error("[gatewayd]\nlisten = 1.2.3.4:80\nlisen = x\n"),
		       "bad.conf:3: unknown key \"lisen\" in [gatewayd]");
	CHECK_CONTAINS(load_error("[nope]\n"), "bad.conf:1: unknown section [nope]");
	CHECK_CONTAINS(load_error("url = x\n"), "outside any [section]");
	CHECK_CONTAINS(load_error("[database\n"), "malformed section header");
	CHECK_CONTAINS(load_error("[database]\njust words\n"), "bad.conf:2: expected key = value");
	CHECK_CONTAINS(load_error("[database]\nconnect_timeout = abc\n"),
		       "bad.conf:2: database.connect_timeout must be an integer");
	CHECK_CONTAINS(load_error("[database]\nconnect_timeout = 0\n"), "between 1 and 300");
	CHECK_CONTAINS(load_error("[database]\nconnect_timeout = 99999999999999999999\n"),
		       "must be an integer");
	CHECK_CONTAINS(load_error("[log]\nlevel = loud\n"), "log.level must be debug");
	CHECK_CONTAINS(load_error("[telegram]\napi_url = ftp://x\n"), "http:// or https://");
	CHECK_CONTAINS(load_error("[telegram]\napi_url =\n"), "must not be empty");
	CHECK_CONTAINS(load_error("[gatewayd]\nlisten = 8080\n"), "must be address:port");
	CHECK_CONTAINS(load_error("[gatewayd]\nlisten = host:99999\n"), "must be address:port");
	CHECK_CONTAINS(load_error("[gatewayd]\ndoorbell = /tmp/x\n"), "endpoint");
	CHECK_CONTAINS(load_error("[gatewayd]\ndoorbell = ipc:///a ipc:///b\n"), "one tcp://");
	CHECK_CONTAINS(load_error("[senderd]\ndoorbells = ipc:///a http://b\n"), "list of");
	CHECK_CONTAINS(load_error("[security]\nsecret_key = abc\n"), "64 hexadecimal");
	CHECK_CONTAINS(load_error("[database]\nurl = \"unclosed\n"), "unclosed quote");
	CHECK_CONTAINS(load_error("[senderd]\nambiguous = maybe\n"),
		       "senderd.ambiguous is not one");
	CHECK_STR(load_error("[senderd]\nambiguous = fail\n"), "(loaded)");
}

/* test_retention - [retention]'s bounds, and the keys that bound each other */
static void test_retention(void)
{
	CHECK_STR(load_error("[retention]\nmessages_days = 0\nevents_days = 0\n"
			     "idempotency_hours = 876000\n"),
		  "(loaded)");
	CHECK_STR(load_error("[retention]\nmessages_days = 7\nevents_days = 7\n"
			     "idempotency_hours = 168\n"),
		  "(loaded)");
	CHECK_CONTAINS(load_error("[retention]\nmessages_days = -1\n"),
		       "retention.messages_days must be between 0 and 36500");
	CHECK_CONTAINS(
		load_error("[retention]\nmessages_days = 30\n"),
		"bad.conf: retention.events_days (90) must be 1 to retention.messages_days (30)");
	CHECK_CONTAINS(load_error("[retention]\nevents_days = 0\n"),
		       "retention.events_days (0) must be 1 to");
	CHECK_CONTAINS(
		load_error("[retention]\nmessages_days = 1\nevents_days = 1\n"
			   "idempotency_hours = 25\n"),
		"retention.idempotency_hours (25) must be at most retention.messages_days (1)");
	CHECK_CONTAINS(load_error("[retention]\npartition_size = 999\n"),
		       "between 1000 and 1000000000");
}

static void test_unreadable(void)
{
	char err[512];

	CHECK(tgm_config_load("/nonexistent/tgm.conf", err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "/nonexistent/tgm.conf: cannot read configuration");
	CHECK(tgm_config_load(dir, err, sizeof(err)) == NULL); /* a directory */
	CHECK_CONTAINS(err, "cannot read configuration");
}

static void test_overrides(void)
{
	char err[512], cred[300], path[300];
	struct tgm_config *cfg;

	snprintf(path, sizeof(path), "%s",
		 write_conf("o.conf", "[gatewayd]\nlisten = 1.1.1.1:1\n"));

	setenv("TGM_GATEWAYD_LISTEN", "127.0.0.1:9999", 1);
	cfg = tgm_config_load(path, err, sizeof(err));
	CHECK(cfg && strcmp(cfg->gatewayd.listen, "127.0.0.1:9999") == 0);
	tgm_config_free(cfg);
	setenv("TGM_GATEWAYD_LISTEN", "nonsense", 1);
	CHECK(tgm_config_load(path, err, sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "environment TGM_GATEWAYD_LISTEN: gatewayd.listen must be");
	unsetenv("TGM_GATEWAYD_LISTEN");

	snprintf(cred, sizeof(cred), "%s/stripe.secret_key", dir);
	write_conf("stripe.secret_key", "sk_test_123\n");
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	cfg = tgm_config_load(path, err, sizeof(err));
	CHECK(cfg && strcmp(cfg->stripe.secret_key, "sk_test_123") == 0);
	tgm_config_free(cfg);
	setenv("TGM_STRIPE_SECRET_KEY", "sk_test_env", 1); /* the environment wins */
	cfg = tgm_config_load(path, err, sizeof(err));
	CHECK(cfg && strcmp(cfg->stripe.secret_key, "sk_test_env") == 0);
	tgm_config_free(cfg);
	unsetenv("TGM_STRIPE_SECRET_KEY");
	unsetenv("CREDENTIALS_DIRECTORY");
	unlink(cred);
}

static void test_print_defaults(void)
{
	char err[512], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct tgm_config *cfg;

	tgm_config_print_defaults(f);
	fclose(f);
	CHECK_CONTAINS(text, "[database]\n");
	CHECK_CONTAINS(text, "url = \"postgresql:///tgm\"\n");
	/* what it prints loads again to the defaults */
	cfg = tgm_config_load(write_conf("defaults.conf", text), err, sizeof(err));
	CHECK(cfg != NULL && cfg->senderd.sweep_interval == 5);
	tgm_config_free(cfg);
	free(text);
}

static void test_durations(void)
{
	int64_t ms[TGM_CONFIG_DURATIONS_MAX];

	CHECK(tgm_config_durations("5s 5m 30m 2h 5h 10h 10h", ms, 16) == 7);
	CHECK(ms[0] == 5000 && ms[1] == 300000 && ms[3] == 7200000 && ms[6] == 36000000);
	CHECK(tgm_config_durations(" 0.5s,1d ", ms, 16) == 2 && ms[0] == 500 && ms[1] == 86400000);
	CHECK(tgm_config_durations("", ms, 16) == 0);   /* no pause */
	CHECK(tgm_config_durations("5", ms, 16) == -1); /* no unit */
	CHECK(tgm_config_durations("5x", ms, 16) == -1);
	CHECK(tgm_config_durations("5ss", ms, 16) == -1);
	CHECK(tgm_config_durations("-1s", ms, 16) == -1);
	CHECK(tgm_config_durations("8d", ms, 16) == -1);      /* over 7 days */
	CHECK(tgm_config_durations("1s 1s 1s", ms, 2) == -1); /* more than max */
	CHECK(tgm_config_durations("nans", ms, 16) == -1);
	CHECK_CONTAINS(load_error("[senderd]\ncallback_schedule = 5s 5q\n"),
		       "senderd.callback_schedule");
}

int main(void)
{
	char cmd[300];

	if (mkdtemp(dir) == NULL)
		return 1;
	test_defaults();
	test_good_file();
	test_bad_files();
	test_retention();
	test_unreadable();
	test_overrides();
	test_print_defaults();
	test_durations();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return unit_done("config");
}
