/*
 * session.c - dashboard logins: POST /v1/session checks an account's email and
 * password (on the worker thread) and sets the session cookie; the cookie then
 * authenticates requests like an API key, with the account's role as its scope;
 * GET /v1/session tells who is asking; DELETE /v1/session logs out; POST
 * /v1/session/password changes the account's own password (ending its other sessions).
 *
 * The cookie "tgm_session" is HttpOnly and SameSite=Strict (and Secure behind an
 * HTTPS proxy that says X-Forwarded-Proto: https); the database keeps its SHA-256.
 * A session ends after SESSION_IDLE of no use, at logout, and when its account's
 * password, role or enabled state changes (010_accounts.sql). A request that changes
 * state with a session must come from the page's own origin (gw_session_origin_ok).
 * A session whose password was given by someone else (must_change_password) may only
 * change it, see who it is, or log out (gw_session_allowed).
 * Five wrong passwords in a row lock an account for LOCK_MINUTES; ten failures from
 * one address in five minutes refuse it (loginlimit.c).
 */
#include "gatewayd/gatewayd.h"
#include "gatewayd/worker.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/password.h"
#include "common/util.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COOKIE "tgm_session"
#define TOKEN_PREFIX "tgms_"
#define TOKEN_LEN 45
#define SESSION_IDLE "12 hours"
#define LOCK_FAILS 5
#define LOCK_MINUTES 15

#define ACCOUNT_JSON \
	"json_build_object('id', a.id, 'tenant_id', a.tenant_id, 'email', a.email," \
	" 'role', a.role, 'must_change_password', a.must_change_password)"

static const char find_sql[] =
	"SELECT id, password_hash, disabled_at IS NOT NULL, locked_until > now(),"
	" ceil(extract(epoch FROM locked_until - now()))::int"
	" FROM accounts WHERE lower(email) = lower($1)";
static const char failed_sql[] =
	"UPDATE accounts SET failed_logins = CASE WHEN failed_logins + 1 >= $2::int THEN 0"
	"   ELSE failed_logins + 1 END,"
	" locked_until = CASE WHEN failed_logins + 1 >= $2::int"
	"   THEN now() + make_interval(mins => $3::int) END"
	" WHERE id = $1 RETURNING locked_until IS NOT NULL";
static const char start_sql[] =
	"WITH a AS (UPDATE accounts SET failed_logins = 0, locked_until = NULL,"
	"   last_login_at = now() WHERE id = $1 AND disabled_at IS NULL"
	"   RETURNING id, tenant_id, email, role, must_change_password),"
	" s AS (INSERT INTO sessions (account_id, hash, address)"
	"   SELECT id, decode($2, 'hex'), $3 FROM a RETURNING id)"
	" SELECT json_build_object('account', " ACCOUNT_JSON ") FROM a, s";
static const char lookup_sql[] =
	"WITH s AS (SELECT s.id, a.id AS account, a.tenant_id, a.role, s.last_seen_at,"
	"   a.must_change_password"
	"   FROM sessions s JOIN accounts a ON a.id = s.account_id"
	"   WHERE s.hash = decode($1, 'hex') AND s.revoked_at IS NULL"
	"   AND a.disabled_at IS NULL AND s.last_seen_at > now() - interval '" SESSION_IDLE "'),"
	" touch AS (UPDATE sessions SET last_seen_at = now() WHERE id = (SELECT id FROM s)"
	"   AND last_seen_at < now() - interval '10 seconds')"
	" SELECT id, account, tenant_id, role, must_change_password FROM s";
static const char whoami_sql[] =
	"SELECT json_build_object('kind', 'session', 'account', " ACCOUNT_JSON ","
	" 'idle_timeout_s', extract(epoch FROM interval '" SESSION_IDLE "')::int)"
	" FROM accounts a WHERE a.id = $1";
static const char stored_sql[] = "SELECT password_hash FROM accounts WHERE id = $1";
static const char change_sql[] =
	"UPDATE accounts SET password_hash = $2, must_change_password = false"
	" WHERE id = $1 AND disabled_at IS NULL";
static const char logout_sql[] =
	"UPDATE sessions SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1";

/* a stored form that matches no password: an unknown email costs the same time */
static const char dummy_hash[] =
	"pbkdf2-sha256$210000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

struct login {
	struct gw_req *r;
	char *password;
	char *stored;
	char *new_password; /* a password change: the new one, then its hash */
	char *new_hash;
	char account[24];
	bool known, ok;
	char address[64];
};

/* login_free - wipe the passwords and free a login in progress */
static void login_free(void *p)
{
	struct login *l = p;

	if (l->password)
		explicit_bzero(l->password, strlen(l->password));
	if (l->new_password)
		explicit_bzero(l->new_password, strlen(l->new_password));
	free(l->password);
	free(l->new_password);
	free(l->new_hash);
	free(l->stored);
	free(l);
}

/* peer - the client's address as text */
static void peer(struct gw_req *r, char out[64])
{
	char *host = NULL;
	ev_uint16_t port;

	evhttp_connection_get_peer(evhttp_request_get_connection(r->req), &host, &port);
	snprintf(out, 64, "%s", host ? host : "");
}

/* behind_https - served over HTTPS as a proxy in front says */
static bool behind_https(struct gw_req *r)
{
	const char *p = gw_header(r, "X-Forwarded-Proto");

	return p && strcasecmp(p, "https") == 0;
}

/* set_cookie - the session cookie with token (NULL: one that clears it) */
static void set_cookie(struct gw_req *r, const char *token)
{
	char *c = tgm_xasprintf(COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s%s",
				token ? token : "", token ? "" : "; Max-Age=0",
				behind_https(r) ? "; Secure" : "");

	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Set-Cookie", c);
	free(c);
}

bool gw_session_cookie(struct gw_req *r, char hash[65])
{
	const char *h = gw_header(r, "Cookie"), *p, *end;
	unsigned char d[TGM_SHA256_LEN];
	char token[TOKEN_LEN + 1];

	for (p = h; p && (p = strstr(p, COOKIE "=")) != NULL; p += strlen(COOKIE)) {
		if (p != h && p[-1] != ' ' && p[-1] != ';')
			continue;
		p += strlen(COOKIE "=");
		end = p + strcspn(p, "; ");
		if (end - p != TOKEN_LEN || strncmp(p, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
			return false;
		memcpy(token, p, TOKEN_LEN);
		token[TOKEN_LEN] = '\0';
		tgm_sha256(token, TOKEN_LEN, d);
		tgm_hex_encode(d, sizeof(d), hash);
		return true;
	}
	return false;
}

bool gw_session_allowed(const struct gw_req *r)
{
	void (*h)(struct gw_req *) = r->route->handler;

	return !r->must_change || h == gw_session_get || h == gw_session_logout ||
	       h == gw_session_password;
}

bool gw_session_origin_ok(struct gw_req *r)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(r->req);
	const char *origin = gw_header(r, "Origin"), *host = gw_header(r, "Host"), *rest;

	if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD || m == EVHTTP_REQ_OPTIONS)
		return true;
	if (origin == NULL || host == NULL)
		return false;
	if (strncmp(origin, "https://", 8) == 0)
		rest = origin + 8;
	else if (strncmp(origin, "http://", 7) == 0)
		rest = origin + 7;
	else
		return false;
	return strcasecmp(rest, host) == 0;
}

/* scope_of_role - an account's role to the scope its session has */
static enum gw_scope scope_of_role(const char *role)
{
	if (strcmp(role, "owner") == 0)
		return GW_SCOPE_OWNER;
	if (strcmp(role, "admin") == 0)
		return GW_SCOPE_ADMIN;
	if (strcmp(role, "agent") == 0)
		return GW_SCOPE_SEND;
	return GW_SCOPE_READ;
}

/* on_session - a session cookie looked up: the request is authorized, or 401 */
static void on_session(struct gw_req *r, PGresult *res, const char *err)
{
	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) != 1) {
		set_cookie(r, NULL);
		gw_reply_problem(r, 401, "session_expired", "the session has ended; log in again",
				 NULL);
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 0), &r->session_id);
	tgm_parse_int64(PQgetvalue(res, 0, 1), &r->account_id);
	tgm_parse_int64(PQgetvalue(res, 0, 2), &r->tenant_id);
	r->scope = scope_of_role(PQgetvalue(res, 0, 3));
	r->must_change = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	r->key_id = 0;
	gw_auth_granted(r);
}

void gw_session_authenticate(struct gw_req *r, const char *hash)
{
	const char *p[1] = { hash };

	if (!gw_session_origin_ok(r)) {
		gw_reply_problem(r, 403, "foreign_origin",
				 "a request that changes something"
				 " with a session cookie must come from the dashboard's own origin",
				 "Origin");
		return;
	}
	gw_query_on(r, r->gw->auth_pg, lookup_sql, 1, p, on_session);
}

/* login_refused - the email or the password is wrong (which, is not said) */
static void login_refused(struct gw_req *r)
{
	gw_reply_problem(r, 401, "invalid_credentials", "the email or the password is wrong", NULL);
}

/* locked - a 403 for a locked account, with Retry-After */
static void locked(struct gw_req *r, const char *seconds)
{
	char *detail = tgm_xasprintf("this account is locked after too many wrong passwords;"
				     " try again in %s seconds",
				     seconds);

	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", seconds);
	gw_reply_problem(r, 403, "account_locked", detail, NULL);
	free(detail);
}

/* on_started - the session stored: set its cookie, answer the account */
static void on_started(struct gw_req *r, PGresult *res, const char *err)
{
	struct login *l = r->data;
	char token[TOKEN_LEN + 1];

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) != 1) { /* disabled meanwhile */
		gw_reply_problem(r, 403, "account_disabled", "this account is disabled", NULL);
		return;
	}
	memcpy(token, l->stored, TOKEN_LEN + 1); /* start_session left it there */
	set_cookie(r, token);
	explicit_bzero(token, sizeof(token));
	log_info("account %s logged in from %s", l->account, l->address);
	gw_reply_raw(r, 200, PQgetvalue(res, 0, 0));
}

/* start_session - the password was right: a new session and its cookie */
static void start_session(struct gw_req *r)
{
	struct login *l = r->data;
	char token[TOKEN_LEN + 1], hash[65];
	unsigned char d[TGM_SHA256_LEN];
	const char *p[3] = { l->account, hash, l->address };

	memcpy(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX));
	tgm_random_token(token + strlen(TOKEN_PREFIX), TOKEN_LEN - strlen(TOKEN_PREFIX), NULL);
	token[TOKEN_LEN] = '\0';
	tgm_sha256(token, TOKEN_LEN, d);
	tgm_hex_encode(d, sizeof(d), hash);
	free(l->stored); /* no longer needed: keep the token until on_started */
	l->stored = tgm_xstrdup(token);
	explicit_bzero(token, sizeof(token));
	gw_query_sql(r, start_sql, 3, p, on_started);
}

/* on_failed - a wrong password counted: 401, or 403 when it locked the account */
static void on_failed(struct gw_req *r, PGresult *res, const char *err)
{
	char minutes[24];

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		snprintf(minutes, sizeof(minutes), "%d", LOCK_MINUTES * 60);
		locked(r, minutes);
		return;
	}
	login_refused(r);
}

/* check_work - on the worker thread: compare the password (a dummy hash if no account) */
static void check_work(void *arg)
{
	struct login *l = arg;

	l->ok = tgm_password_verify(l->password, l->known ? l->stored : dummy_hash) && l->known;
}

/* check_done - back on the loop with the password's verdict */
static void check_done(void *arg)
{
	struct login *l = arg;
	struct gw_req *r = l->r;
	char fails[16], mins[16];
	const char *p[3] = { l->account, fails, mins };

	if (l->ok) {
		start_session(r);
		return;
	}
	gw_loginlimit_fail(r->gw->logins, l->address);
	if (!l->known) {
		login_refused(r);
		return;
	}
	snprintf(fails, sizeof(fails), "%d", LOCK_FAILS);
	snprintf(mins, sizeof(mins), "%d", LOCK_MINUTES);
	gw_query_sql(r, failed_sql, 3, p, on_failed);
}

/* check_password - hand the comparison to the worker thread */
static void check_password(struct gw_req *r)
{
	struct login *l = r->data;

	if (!gw_worker_run(r->gw->worker, check_work, check_done, l))
		gw_reply_problem(r, 503, "busy", "too many logins at once; retry in a moment",
				 NULL);
}

/* on_account - the account of a login looked up: check the password */
static void on_account(struct gw_req *r, PGresult *res, const char *err)
{
	struct login *l = r->data;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	l->known = PQntuples(res) == 1;
	if (l->known) {
		snprintf(l->account, sizeof(l->account), "%s", PQgetvalue(res, 0, 0));
		l->stored = tgm_xstrdup(PQgetvalue(res, 0, 1));
		if (strcmp(PQgetvalue(res, 0, 3), "t") == 0) {
			locked(r, PQgetvalue(res, 0, 4));
			return;
		}
		if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
			l->known = false; /* a disabled account logs in no more: as if unknown */
		}
	}
	check_password(r);
}

void gw_session_login(struct gw_req *r)
{
	const char *email = tgm_json_get_str(r->body, "email");
	const char *password = tgm_json_get_str(r->body, "password");
	struct login *l;
	char wait[16];
	int w;

	if (!gw_session_origin_ok(r) && gw_header(r, "Origin")) {
		gw_reply_problem(r, 403, "foreign_origin", "log in from the dashboard's own origin",
				 "Origin");
		return;
	}
	if (email == NULL || strlen(email) > 254) {
		gw_reply_problem(r, 422, "invalid_field", "email must be a string", "email");
		return;
	}
	if (password == NULL || strlen(password) > TGM_PASSWORD_MAX) {
		gw_reply_problem(r, 422, "invalid_field", "password must be a string", "password");
		return;
	}
	l = tgm_xcalloc(1, sizeof(*l));
	l->r = r;
	peer(r, l->address);
	r->data = l;
	r->data_free = login_free;
	if ((w = gw_loginlimit_wait(r->gw->logins, l->address)) > 0) {
		snprintf(wait, sizeof(wait), "%d", w);
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", wait);
		gw_reply_problem(r, 429, "rate_limited",
				 "too many failed logins from this"
				 " address; see Retry-After",
				 NULL);
		return;
	}
	l->password = tgm_xstrdup(password);
	gw_query_sql(r, find_sql, 1, (const char *const[]){ email }, on_account);
}

void gw_session_get(struct gw_req *r)
{
	char id[24];
	yajl_gen g;

	if (r->session_id == 0) {
		g = tgm_jgen_new();
		yajl_gen_map_open(g);
		tgm_jgen_kstr(g, "kind", "key");
		tgm_jgen_kint(g, "key_id", r->key_id);
		tgm_jgen_kint(g, "tenant_id", r->tenant_id);
		tgm_jgen_kstr(g, "scope",
			      r->scope == GW_SCOPE_ADMIN  ? "admin"
			      : r->scope == GW_SCOPE_SEND ? "send"
							  : "read");
		yajl_gen_map_close(g);
		gw_reply_json(r, 200, g);
		return;
	}
	snprintf(id, sizeof(id), "%lld", (long long)r->account_id);
	gw_query_sql(r, whoami_sql, 1, (const char *const[]){ id }, gw_on_json);
}

/* on_logout - the session deleted: clear the cookie, 204 */
static void on_logout(struct gw_req *r, PGresult *res, const char *err)
{
	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	set_cookie(r, NULL);
	tgm_http_reply(r->req, 204, NULL, NULL, 0);
	gw_req_free(r);
}

void gw_session_logout(struct gw_req *r)
{
	char id[24];

	if (r->session_id == 0) {
		gw_reply_problem(r, 400, "not_a_session",
				 "this request is authenticated by an API key, not a session",
				 NULL);
		return;
	}
	snprintf(id, sizeof(id), "%lld", (long long)r->session_id);
	gw_query_on(r, r->gw->auth_pg, logout_sql, 1, (const char *const[]){ id }, on_logout);
}

/* on_changed - the new password stored: a new session (the change ended all), or 403 */
static void on_changed(struct gw_req *r, PGresult *res, const char *err)
{
	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (strtol(PQcmdTuples(res), NULL, 10) != 1) {
		gw_reply_problem(r, 403, "account_disabled", "this account is disabled", NULL);
		return;
	}
	start_session(r); /* the change ended every session: this one goes on anew */
}

/* change_work - on the worker thread: check the current password, hash the new one */
static void change_work(void *arg)
{
	struct login *l = arg;

	l->ok = tgm_password_verify(l->password, l->stored);
	if (l->ok)
		l->new_hash = tgm_password_hash(l->new_password);
}

/* change_done - back on the loop: store the new hash, or 422 */
static void change_done(void *arg)
{
	struct login *l = arg;
	struct gw_req *r = l->r;

	if (!l->ok) {
		gw_reply_problem(r, 422, "invalid_field", "the current password is wrong",
				 "password");
		return;
	}
	gw_query_sql(r, change_sql, 2, (const char *const[]){ l->account, l->new_hash },
		     on_changed);
}

/* on_stored - the account read for a password change: check it on the worker */
static void on_stored(struct gw_req *r, PGresult *res, const char *err)
{
	struct login *l = r->data;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) != 1) {
		gw_reply_problem(r, 403, "account_disabled", "this account is disabled", NULL);
		return;
	}
	l->stored = tgm_xstrdup(PQgetvalue(res, 0, 0));
	if (!gw_worker_run(r->gw->worker, change_work, change_done, l))
		gw_reply_problem(r, 503, "busy",
				 "too many password checks at once; retry in a"
				 " moment",
				 NULL);
}

void gw_session_password(struct gw_req *r)
{
	const char *current = tgm_json_get_str(r->body, "password");
	const char *fresh = tgm_json_get_str(r->body, "new_password"), *why;
	struct login *l;

	if (r->session_id == 0) {
		gw_reply_problem(r, 400, "not_a_session",
				 "this request is authenticated by an API key, not a session",
				 NULL);
		return;
	}
	if (current == NULL || strlen(current) > TGM_PASSWORD_MAX) {
		gw_reply_problem(r, 422, "invalid_field",
				 "password (the current one) must be a"
				 " string",
				 "password");
		return;
	}
	if (fresh == NULL || (why = tgm_password_check(fresh)) != NULL || !strcmp(fresh, current)) {
		gw_reply_problem(r, 422, "invalid_field",
				 fresh == NULL ? "new_password must be a"
						 " string"
				 : why         ? why
					       : "the new password must differ from the"
						 " current one",
				 "new_password");
		return;
	}
	l = tgm_xcalloc(1, sizeof(*l));
	l->r = r;
	l->password = tgm_xstrdup(current);
	l->new_password = tgm_xstrdup(fresh);
	snprintf(l->account, sizeof(l->account), "%lld", (long long)r->account_id);
	peer(r, l->address);
	r->data = l;
	r->data_free = login_free;
	gw_query_sql(r, stored_sql, 1, (const char *const[]){ l->account }, on_stored);
}
