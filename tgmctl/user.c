/*
 * user.c - `tgmctl user create|list|disable|reset-password`: the dashboard's accounts
 * (people who log in to the dashboard; not the users of a bot).
 *
 * A password is read from stdin with --password-stdin (one line: the operator chose
 * it), else made here and printed once, to be changed at the first login.
 */
#include "tgmctl/tgmctl.h"
#include "common/db.h"
#include "common/password.h"
#include "common/util.h"
#include "common/webhook_secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct user_opts {
	const char *tenant, *email, *role;
	bool password_stdin;
	bool create_tenant; /* --create-tenant: make the tenant when it does not exist */
};

/* valid_role - whether s is an account role: owner, admin, agent or viewer */
static bool valid_role(const char *s)
{
	return !strcmp(s, "owner") || !strcmp(s, "admin") || !strcmp(s, "agent") ||
	       !strcmp(s, "viewer");
}

/* parse_opts - --tenant, --email, --role, --password-stdin, --create-tenant; 0 or a
 * usage error's 2 */
static int parse_opts(const char *cmd, int argc, char **argv, struct user_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char **slot = !strcmp(argv[i], "--tenant")  ? &o->tenant
				    : !strcmp(argv[i], "--email") ? &o->email
				    : !strcmp(argv[i], "--role")  ? &o->role
								  : NULL;

		if (!strcmp(argv[i], "--password-stdin") || !strcmp(argv[i], "--create-tenant")) {
			*(argv[i][2] == 'p' ? &o->password_stdin : &o->create_tenant) = true;
			continue;
		}
		if (slot == NULL)
			return ctl_usage_error("user %s: unknown option \"%s\"", cmd, argv[i]);
		if (i + 1 >= argc)
			return ctl_usage_error("user %s: %s needs a value", cmd, argv[i]);
		*slot = argv[++i];
	}
	return 0;
}

/* get_password - one line from stdin, or a new one (*made); NULL after printing why */
static char *get_password(bool from_stdin, bool *made)
{
	char line[TGM_PASSWORD_MAX + 2], gen[TGM_PASSWORD_GEN_LEN + 1];
	const char *why;

	*made = !from_stdin;
	if (!from_stdin) {
		tgm_password_new(gen);
		return tgm_xstrdup(gen);
	}
	if (fgets(line, sizeof(line), stdin) == NULL) {
		fprintf(stderr, "tgmctl: no password on stdin\n");
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if ((why = tgm_password_check(line)) != NULL) {
		fprintf(stderr, "tgmctl: %s\n", why);
		return NULL;
	}
	return tgm_xstrdup(line);
}

/* show_password - print a password made here, once */
static void show_password(const char *password, bool made)
{
	if (made) {
		puts(password);
		fprintf(stderr, "the password is shown only now; it must be changed at the"
				" first login\n");
	}
}

/* user_create - `user create`: makes a dashboard account (and the tenant with
 * --create-tenant) and shows its password; 0, 1 on an error, 2 after a usage error */
static int user_create(struct ctl *c, int argc, char **argv)
{
	struct user_opts o = { 0 };
	char err[512], secret[TGM_WEBHOOK_SECRET_LEN + 1], *password, *hash;
	bool made;
	int rc = parse_opts("create", argc, argv, &o);
	PGconn *conn;
	PGresult *r;

	if (rc)
		return rc;
	if (o.tenant == NULL || *o.tenant == '\0' || o.email == NULL || o.role == NULL)
		return ctl_usage_error(
			"usage: tgmctl user create --tenant NAME --email EMAIL"
			" --role owner|admin|agent|viewer [--password-stdin] [--create-tenant]");
	if (!valid_role(o.role))
		return ctl_usage_error("user create: --role must be owner, admin, agent or viewer");
	if (strchr(o.email, '@') == NULL)
		return ctl_usage_error("user create: --email must look like name@host");
	if ((password = get_password(o.password_stdin, &made)) == NULL)
		return 1;
	if ((conn = ctl_connect(c)) == NULL ||
	    ctl_tenant_check(conn, o.tenant, o.create_tenant) != 0) {
		PQfinish(conn);
		free(password);
		return 1;
	}
	hash = tgm_password_hash(password);
	tgm_webhook_secret_new(secret);
	r = tgm_db_query(
		conn,
		"WITH t AS (INSERT INTO tenants (name, webhook_secret) VALUES ($1, $5)"
		"  ON CONFLICT (name) DO UPDATE SET webhook_secret ="
		"  coalesce(tenants.webhook_secret, EXCLUDED.webhook_secret) RETURNING id)"
		" INSERT INTO accounts (tenant_id, email, role, password_hash, must_change_password)"
		" SELECT id, $2, $3, $4, $6 FROM t RETURNING id",
		6,
		(const char *const[]){ o.tenant, o.email, o.role, hash, secret, made ? "t" : "f" },
		err, sizeof(err));
	PQfinish(conn);
	free(hash);
	if (r == NULL) {
		fprintf(stderr, "tgmctl: cannot create the account: %s\n", err);
		free(password);
		return 1;
	}
	fprintf(stderr, "created account id=%s tenant=%s email=%s role=%s\n", PQgetvalue(r, 0, 0),
		o.tenant, o.email, o.role);
	show_password(password, made);
	PQclear(r);
	free(password);
	return 0;
}

/* user_list - `user list`: prints every account with its tenant, role, last login
 * and state (active, locked, disabled); 0, or 1 on an error */
static int user_list(struct ctl *c, int argc, char **argv)
{
	char err[512];
	PGconn *conn;
	PGresult *r;

	if (argc > 0)
		return ctl_usage_error("user list takes no arguments");
	if ((conn = ctl_connect(c)) == NULL)
		return 1;
	r = tgm_db_query(conn,
			 "SELECT a.id, t.name, a.email, a.role,"
			 " coalesce(to_char(a.last_login_at, 'YYYY-MM-DD HH24:MI'), '-'),"
			 " CASE WHEN a.disabled_at IS NOT NULL THEN 'disabled'"
			 "  WHEN a.locked_until > now() THEN 'locked' ELSE 'active' END"
			 " FROM accounts a JOIN tenants t ON t.id = a.tenant_id ORDER BY a.id",
			 0, NULL, err, sizeof(err));
	PQfinish(conn);
	if (r == NULL) {
		fprintf(stderr, "tgmctl: %s\n", err);
		return 1;
	}
	printf("%-6s %-16s %-32s %-7s %-16s %s\n", "ID", "TENANT", "EMAIL", "ROLE", "LAST LOGIN",
	       "STATE");
	for (int i = 0; i < PQntuples(r); i++)
		printf("%-6s %-16s %-32s %-7s %-16s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		       PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
		       PQgetvalue(r, i, 5));
	PQclear(r);
	return 0;
}

/* change - run sql ($1: the email, $2: extra) on one account; 0, or 1 after saying why */
static int change(struct ctl *c, const char *email, const char *sql, const char *extra)
{
	char err[512];
	PGconn *conn;
	PGresult *r;
	int n;

	if ((conn = ctl_connect(c)) == NULL)
		return 1;
	r = tgm_db_query(conn, sql, extra ? 2 : 1, (const char *const[]){ email, extra }, err,
			 sizeof(err));
	PQfinish(conn);
	if (r == NULL) {
		fprintf(stderr, "tgmctl: %s\n", err);
		return 1;
	}
	n = (int)strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	if (n == 0) {
		fprintf(stderr, "tgmctl: no account with email %s\n", email);
		return 1;
	}
	return 0;
}

/* user_disable - `user disable EMAIL`: disables the account, which ends its sessions;
 * 0, 1 on an error, 2 after a usage error */
static int user_disable(struct ctl *c, int argc, char **argv)
{
	if (argc != 1)
		return ctl_usage_error("usage: tgmctl user disable EMAIL");
	if (change(c, argv[0],
		   "UPDATE accounts SET disabled_at = coalesce(disabled_at, now())"
		   " WHERE lower(email) = lower($1)",
		   NULL) != 0)
		return 1;
	printf("disabled %s; its sessions are ended\n", argv[0]);
	return 0;
}

/* user_reset - `user reset-password EMAIL`: a new password (from stdin, or made and shown),
 * the account unlocked and its sessions ended; 0, 1 on an error, 2 after a usage error */
static int user_reset(struct ctl *c, int argc, char **argv)
{
	struct user_opts o = { 0 };
	char *password, *hash;
	bool made;
	int rc;

	if (argc < 1 || argv[0][0] == '-')
		return ctl_usage_error(
			"usage: tgmctl user reset-password EMAIL [--password-stdin]");
	if ((rc = parse_opts("reset-password", argc - 1, argv + 1, &o)) != 0)
		return rc;
	if ((password = get_password(o.password_stdin, &made)) == NULL)
		return 1;
	hash = tgm_password_hash(password);
	rc = change(c, argv[0],
		    made ? "UPDATE accounts SET password_hash = $2,"
			   " must_change_password = true, failed_logins = 0, locked_until = NULL"
			   " WHERE lower(email) = lower($1)"
			 : "UPDATE accounts SET password_hash = $2,"
			   " must_change_password = false, failed_logins = 0, locked_until = NULL"
			   " WHERE lower(email) = lower($1)",
		    hash);
	free(hash);
	if (rc == 0) {
		fprintf(stderr, "new password for %s; its sessions are ended\n", argv[0]);
		show_password(password, made);
	}
	free(password);
	return rc;
}

int ctl_user(struct ctl *c, int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "create"))
		return user_create(c, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "list"))
		return user_list(c, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "disable"))
		return user_disable(c, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "reset-password"))
		return user_reset(c, argc - 1, argv + 1);
	return ctl_usage_error("usage: tgmctl user create|list|disable|reset-password ...");
}
