/*
 * tgmctl/main.c - parse the global options and run one command (see tgmctl.h).
 */
#include "tgmctl/tgmctl.h"
#include "common/version.h"
#include "common/dbconn.h"
#include "common/db.h"
#include "common/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
	const char *usage; /* what `tgmctl NAME --help` prints */
} commands[] = {
	{ "migrate", ctl_migrate, "usage: tgmctl migrate\napply missing database migrations\n" },
	{ "key", ctl_key,
	  "usage: tgmctl key create --tenant NAME [--create-tenant] --scope SCOPE [--name LABEL]\n"
	  "       tgmctl key list\n"
	  "       tgmctl key revoke ID\n"
	  "make (admin, send or read; printed once), list or revoke API keys\n" },
	{ "user", ctl_user,
	  "usage: tgmctl user create --tenant NAME --email EMAIL --role ROLE [--password-stdin]\n"
	  "       tgmctl user list\n"
	  "       tgmctl user disable EMAIL\n"
	  "       tgmctl user reset-password EMAIL [--password-stdin]\n"
	  "make, list, disable dashboard accounts or give one a new password\n" },
	{ "status", ctl_status,
	  "usage: tgmctl status\n"
	  "daemons, schema version, queue depth; exit status 1 when the database or a\n"
	  "daemon that has run is down (stopped, silent, or its /healthz does not answer)\n" },
	{ "secret-key", ctl_secret_key,
	  "usage: tgmctl secret-key\nprint a new random secret key\n" },
	{ "config", ctl_config,
	  "usage: tgmctl config --defaults\nprint the default configuration\n" },
};

/* usage - prints tgmctl's help (its commands and options) to out */
static void usage(FILE *out)
{
	fputs("usage: tgmctl [-c FILE] COMMAND [ARGS]   (tgmctl COMMAND --help for one)\n"
	      "tgm's admin command line.\n\n"
	      "commands:\n"
	      "  migrate                                 apply missing database migrations\n"
	      "  key create --tenant NAME [--create-tenant] --scope SCOPE [--name LABEL]\n"
	      "                                          make an API key (admin, send or read);\n"
	      "                                          the key is printed once\n"
	      "  key list                                list API keys\n"
	      "  key revoke ID                           revoke an API key at once\n"
	      "  user create --tenant NAME --email EMAIL --role ROLE [--password-stdin]\n"
	      "                                          make a dashboard account (owner, admin,\n"
	      "                                          agent or viewer); prints its password\n"
	      "  user list | disable EMAIL | reset-password EMAIL [--password-stdin]\n"
	      "  status                                  daemons, schema version, queue depth\n"
	      "  secret-key                              print a new random secret key\n"
	      "  config --defaults                       print the default configuration\n\n"
	      "options:\n"
	      "  -c, --config[=]FILE configuration file (default " TGM_DEFAULT_CONFIG ")\n"
	      "  -h, --help          show this help\n"
	      "  -V, --version       show the version\n",
	      out);
}

/* wants_help - true when a command's arguments ask for its help */
static bool wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tgmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(tgmctl --help shows the usage)\n", stderr);
	return 2;
}

PGconn *ctl_connect(struct ctl *c)
{
	char err[1024];
	PGconn *conn;

	if (c->cfg == NULL)
		c->cfg = tgm_config_load(c->config_path, err, sizeof(err));
	if (c->cfg == NULL) {
		fprintf(stderr, "tgmctl: %s\n", err);
		return NULL;
	}
	conn = tgm_dbconn_sync(c->cfg, "tgmctl", err, sizeof(err));
	if (conn == NULL)
		fprintf(stderr, "tgmctl: %s\n", err);
	return conn;
}

int main(int argc, char **argv)
{
	struct ctl c = { 0 };
	int i = 1, rc;

	tgm_log_init();
	while (i < argc && argv[i][0] == '-') {
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
			c.config_path = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--config=", 9) && argv[i][9] != '\0') {
			c.config_path = argv[i] + 9;
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("tgmctl %s\n", tgm_version);
			return 0;
		} else {
			return ctl_usage_error("unknown option \"%s\"", argv[i]);
		}
	}
	if (i == argc)
		return ctl_usage_error("no command given");
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(argv[i], commands[k].name) == 0) {
			if (wants_help(argc - i - 1, argv + i + 1)) {
				fputs(commands[k].usage, stdout);
				return 0;
			}
			rc = commands[k].run(&c, argc - i - 1, argv + i + 1);
			tgm_config_free(c.cfg);
			return rc;
		}
	return ctl_usage_error("unknown command \"%s\"", argv[i]);
}
