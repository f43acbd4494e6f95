/*
 * setup.c - the commands that prepare an installation: migrate, secret-key and
 * config --defaults.
 */
#include "tgmctl/tgmctl.h"
#include "common/crypto.h"
#include "common/migrate.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

int ctl_migrate(struct ctl *c, int argc, char **argv)
{
	char err[1024];
	PGconn *conn;
	int n;

	if (argc > 0)
		return ctl_usage_error("migrate takes no arguments");
	if ((conn = ctl_connect(c)) == NULL)
		return 1;
	n = tgm_migrate(conn, stdout, err, sizeof(err));
	PQfinish(conn);
	if (n < 0) {
		fprintf(stderr, "tgmctl: %s\n", err);
		return 1;
	}
	printf("schema at version %d (%d migration%s applied)\n", tgm_schema_wanted(), n,
	       n == 1 ? "" : "s");
	return 0;
}

int ctl_secret_key(struct ctl *c, int argc, char **argv)
{
	unsigned char key[32];
	char hex[65];

	if (argc > 0)
		return ctl_usage_error("secret-key takes no arguments");
	tgm_random_bytes(key, sizeof(key));
	tgm_hex_encode(key, sizeof(key), hex);
	puts(hex);
	return 0;
}

int ctl_config(struct ctl *c, int argc, char **argv)
{
	if (argc != 1 || strcmp(argv[0], "--defaults") != 0)
		return ctl_usage_error("usage: tgmctl config --defaults");
	tgm_config_print_defaults(stdout);
	return 0;
}
