/*
 * auth.c - who is asking: the Bearer API key is hashed and looked up (in the key
 * cache, kept exact by LISTEN, else in the database), its scope checked against the
 * route's, and its request rate taken from its bucket. Then the route's handler runs.
 * Without a key, a dashboard session cookie (session.c) is the credential, its
 * account's role the scope.
 *
 * last_used_at is written at most once a minute per key.
 */
#include "gatewayd/gatewayd.h"
#include "common/apikey.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/http.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char lookup_sql[] =
	"WITH k AS (SELECT id, tenant_id, scope FROM api_keys"
	"  WHERE hash = decode($1, 'hex') AND revoked_at IS NULL),"
	" touch AS (UPDATE api_keys SET last_used_at = now() WHERE id = (SELECT id FROM k))"
	" SELECT id, tenant_id, scope FROM k";
static const char touch_sql[] = "UPDATE api_keys SET last_used_at = now() WHERE id = $1";

/* scope_of - a key's stored scope word to its enum (unknown: read) */
static enum gw_scope scope_of(const char *s)
{
	if (strcmp(s, "admin") == 0)
		return GW_SCOPE_ADMIN;
	if (strcmp(s, "send") == 0)
		return GW_SCOPE_SEND;
	return GW_SCOPE_READ;
}

/* unauthorized - a 401 with its WWW-Authenticate header */
static void unauthorized(struct gw_req *r, const char *detail)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "WWW-Authenticate",
			  "Bearer realm=\"tgm\"");
	gw_reply_problem(r, 401, "unauthorized", detail, NULL);
}

/* rate_headers - the IETF draft's RateLimit-Policy and RateLimit fields (the key's
 * bucket as the policy "key": q requests per w seconds, r left, t seconds to reset), the
 * older RateLimit-Limit/-Remaining/-Reset for one more release, and Retry-After when
 * refused */
static void rate_headers(struct evkeyvalq *h, int rate, int burst, int remaining, int reset,
			 bool ok)
{
	char buf[96];

	snprintf(buf, sizeof(buf), "\"key\";q=%d;w=%d", burst, (burst + rate - 1) / rate);
	evhttp_add_header(h, "RateLimit-Policy", buf);
	snprintf(buf, sizeof(buf), "\"key\";r=%d;t=%d", remaining, reset);
	evhttp_add_header(h, "RateLimit", buf);
	snprintf(buf, sizeof(buf), "%d", burst);
	evhttp_add_header(h, "RateLimit-Limit", buf);
	snprintf(buf, sizeof(buf), "%d", remaining);
	evhttp_add_header(h, "RateLimit-Remaining", buf);
	snprintf(buf, sizeof(buf), "%d", reset);
	evhttp_add_header(h, "RateLimit-Reset", buf);
	if (!ok)
		evhttp_add_header(h, "Retry-After", buf);
}

/* take_rate - take one request from the key's bucket and say so in the headers */
static bool take_rate(struct gw_req *r)
{
	const struct tgm_config *cfg = r->gw->ctx->cfg;
	int remaining, reset;
	bool ok = gw_ratelimit_take(r->gw->ratelimit, r->key_id ? r->key_id : -r->account_id,
				    cfg->gatewayd.key_rate, cfg->gatewayd.key_burst, &remaining,
				    &reset);

	rate_headers(evhttp_request_get_output_headers(r->req), cfg->gatewayd.key_rate,
		     cfg->gatewayd.key_burst, remaining, reset, ok);
	return ok;
}

/* needs - why a caller of too low a scope or role is refused */
static const char *needs(const struct gw_req *r)
{
	if (r->route->scope == GW_SCOPE_OWNER)
		return "this needs an account with the owner role";
	if (r->session_id)
		return r->route->scope == GW_SCOPE_ADMIN
			       ? "this needs the admin or owner role"
			       : "this needs the agent, admin or owner role";
	return r->route->scope == GW_SCOPE_ADMIN ? "this needs a key with the admin scope"
						 : "this needs a key with the send or admin scope";
}

void gw_auth_granted(struct gw_req *r)
{
	if (!gw_session_allowed(r)) {
		gw_reply_problem(r, 403, "password_change_required",
				 "this account's password was"
				 " given to it: change it first (POST /v1/session/password)",
				 NULL);
		return;
	}
	if (r->scope < r->route->scope) {
		gw_reply_problem(r, 403, "forbidden", needs(r), NULL);
		return;
	}
	if (!take_rate(r)) {
		gw_reply_problem(r, 429, "rate_limited",
				 "too many requests for this API key; see Retry-After", NULL);
		return;
	}
	gw_proceed(r);
}

/* authorized - the key is known: check its scope and rate, then run the handler */
static void authorized(struct gw_req *r, const struct gw_key *key)
{
	r->key_id = key->id;
	r->tenant_id = key->tenant_id;
	r->scope = key->scope;
	gw_auth_granted(r);
}

/* on_key - the key looked up: cache it and go on, or refuse */
static void on_key(struct gw_req *r, PGresult *res, const char *err)
{
	struct gw_key key;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) != 1) {
		unauthorized(r, "the API key is unknown or revoked");
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 0), &key.id);
	tgm_parse_int64(PQgetvalue(res, 0, 1), &key.tenant_id);
	key.scope = scope_of(PQgetvalue(res, 0, 2));
	gw_keycache_put(r->gw->keys, r->data, &key);
	free(r->data);
	r->data = NULL;
	authorized(r, &key);
}

/* on_touched - last_used_at written (a failure is only logged) */
static void on_touched(PGresult *res, const char *err, void *arg)
{
	if (err)
		log_warn("last_used_at not recorded: %s", err);
}

void gw_authenticate(struct gw_req *r)
{
	const char *auth = gw_header(r, "Authorization");
	char hash[65], id[24];
	const char *p[1] = { hash };
	struct gw_key key;
	bool touch;

	if (auth == NULL && gw_session_cookie(r, hash)) {
		gw_session_authenticate(r, hash);
		return;
	}
	if (auth == NULL) {
		unauthorized(r, "send the API key as Authorization: Bearer <key>");
		return;
	}
	if (strncasecmp(auth, "Bearer ", 7) != 0 || !tgm_apikey_hash(auth + 7, hash)) {
		unauthorized(r, "the Authorization header is not a Bearer tgm API key");
		return;
	}
	if (gw_keycache_get(r->gw->keys, hash, &key, &touch)) {
		if (touch) {
			snprintf(id, sizeof(id), "%lld", (long long)key.id);
			p[0] = id;
			tgm_pg_query(r->gw->auth_pg, touch_sql, 1, p, on_touched, NULL);
		}
		authorized(r, &key);
		return;
	}
	log_debug("api key not cached: looking it up");
	r->data = tgm_xstrdup(hash); /* until on_key caches it */
	r->data_free = free;
	gw_query_on(r, r->gw->auth_pg, lookup_sql, 1, p, on_key);
}
