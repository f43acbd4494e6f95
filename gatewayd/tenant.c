/*
 * tenant.c - the caller's tenant: GET /v1/tenant shows it with the secret that signs
 * its delivery callbacks (made on first need), PATCH /v1/tenant sets webhook_url,
 * where callbacks go for messages sent without a callback_url, and botapi_enabled,
 * whether its bots' tokens are served by the Bot API endpoint; POST
 * /v1/tenant/secret rotates the secret: the old one keeps signing too (a second
 * signature) for keep_previous_seconds, so apps can switch without losing a callback.
 * Admin scope.
 */
#include "gatewayd/gatewayd.h"
#include "common/webhook_secret.h"

#include <stdio.h>
#include <string.h>

#define TENANT_JSON \
	"json_build_object('id', id, 'name', name, 'webhook_url', webhook_url," \
	" 'webhook_secret', webhook_secret, 'webhook_secret_previous_until'," \
	" CASE WHEN webhook_secret_previous_until > now() THEN webhook_secret_previous_until" \
	" END, 'botapi_enabled', botapi_enabled, 'created_at', created_at)"

static const char get_sql[] =
	"UPDATE tenants SET webhook_secret = coalesce(webhook_secret, $2) WHERE id = $1"
	" RETURNING " TENANT_JSON;
static const char rotate_sql[] =
	"UPDATE tenants SET webhook_secret_previous = webhook_secret,"
	" webhook_secret_previous_until = CASE WHEN webhook_secret IS NULL THEN NULL"
	"  ELSE now() + make_interval(secs => $3::int) END, webhook_secret = $2"
	" WHERE id = $1 RETURNING " TENANT_JSON;
static const char patch_sql[] =
	"UPDATE tenants SET webhook_url = CASE WHEN $4 THEN $3 ELSE webhook_url END,"
	" botapi_enabled = coalesce($5::boolean, botapi_enabled),"
	" webhook_secret = coalesce(webhook_secret, $2) WHERE id = $1 RETURNING " TENANT_JSON;

void gw_tenant_get(struct gw_req *r)
{
	char tenant[24], secret[TGM_WEBHOOK_SECRET_LEN + 1];
	const char *p[2] = { tenant, secret };

	gw_tenant_param(r, tenant);
	tgm_webhook_secret_new(secret);
	gw_query_sql(r, get_sql, 2, p, gw_on_json);
}

/* url_ok - webhook_url absent, null, or an http(s) URL of at most 2048 bytes */
static bool url_ok(yajl_val v)
{
	const char *url = v && YAJL_IS_STRING(v) ? v->u.string : NULL;

	return v == NULL || YAJL_IS_NULL(v) ||
	       (url && strlen(url) <= 2048 &&
		(strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0));
}

void gw_tenant_update(struct gw_req *r)
{
	char tenant[24], secret[TGM_WEBHOOK_SECRET_LEN + 1];
	yajl_val v = tgm_json_get(r->body, "webhook_url");
	yajl_val on = tgm_json_get(r->body, "botapi_enabled");
	const char *url = v && YAJL_IS_STRING(v) ? v->u.string : NULL;
	const char *p[5] = { tenant, secret, url, v ? "true" : "false",
			     on == NULL         ? NULL
			     : YAJL_IS_TRUE(on) ? "true"
						: "false" };

	for (size_t i = 0; r->body && i < r->body->u.object.len; i++)
		if (strcmp(r->body->u.object.keys[i], "webhook_url") != 0 &&
		    strcmp(r->body->u.object.keys[i], "botapi_enabled") != 0) {
			gw_reply_problem(r, 422, "unknown_field",
					 "only webhook_url and botapi_enabled can change",
					 r->body->u.object.keys[i]);
			return;
		}
	if ((v == NULL && on == NULL) || !url_ok(v)) {
		gw_reply_problem(r, 422, "invalid_field",
				 "webhook_url must be an http(s) URL or null", "webhook_url");
		return;
	}
	if (on && !YAJL_IS_TRUE(on) && !YAJL_IS_FALSE(on)) {
		gw_reply_problem(r, 422, "invalid_field", "botapi_enabled must be true or false",
				 "botapi_enabled");
		return;
	}
	gw_tenant_param(r, tenant);
	tgm_webhook_secret_new(secret);
	gw_query_sql(r, patch_sql, 5, p, gw_on_json);
}

#define KEEP_DEFAULT "86400"
#define KEEP_MAX 604800

void gw_tenant_rotate_secret(struct gw_req *r)
{
	char tenant[24], secret[TGM_WEBHOOK_SECRET_LEN + 1], keep[24] = KEEP_DEFAULT;
	yajl_val v = tgm_json_get(r->body, "keep_previous_seconds");
	const char *p[3] = { tenant, secret, keep };

	for (size_t i = 0; r->body && i < r->body->u.object.len; i++)
		if (strcmp(r->body->u.object.keys[i], "keep_previous_seconds") != 0) {
			gw_reply_problem(r, 422, "unknown_field",
					 "only keep_previous_seconds is"
					 " taken",
					 r->body->u.object.keys[i]);
			return;
		}
	if (v &&
	    (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 || YAJL_GET_INTEGER(v) > KEEP_MAX)) {
		gw_reply_problem(r, 422, "invalid_field",
				 "keep_previous_seconds must be an integer"
				 " from 0 to 604800 (7 days)",
				 "keep_previous_seconds");
		return;
	}
	if (v)
		snprintf(keep, sizeof(keep), "%lld", (long long)YAJL_GET_INTEGER(v));
	gw_tenant_param(r, tenant);
	tgm_webhook_secret_new(secret);
	gw_query_sql(r, rotate_sql, 3, p, gw_on_json);
}
