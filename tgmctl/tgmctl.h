/*
 * tgmctl.h - the admin command line: the commands its files implement.
 * Each command returns the process exit status: 0 done, 1 failed, 2 bad usage.
 */
#ifndef TGMCTL_H
#define TGMCTL_H

#include "common/config.h"

#include <libpq-fe.h>
#include <stdbool.h>

struct ctl {
	const char *config_path; /* NULL: the default file */
	struct tgm_config *cfg;  /* loaded on first need */
};

/* ctl_connect - load the configuration and connect; NULL after printing why */
PGconn *ctl_connect(struct ctl *c);
/* ctl_usage_error - print a usage error and return 2 */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ctl_tenant_check - 0 when the tenant exists or create is set; 1 after saying why not */
int ctl_tenant_check(PGconn *conn, const char *tenant, bool create);

int ctl_migrate(struct ctl *c, int argc, char **argv);
int ctl_key(struct ctl *c, int argc, char **argv);
int ctl_user(struct ctl *c, int argc, char **argv);
int ctl_status(struct ctl *c, int argc, char **argv);
int ctl_secret_key(struct ctl *c, int argc, char **argv);
int ctl_config(struct ctl *c, int argc, char **argv);

#endif
