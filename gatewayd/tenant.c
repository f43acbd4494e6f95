/*
 * tenant.c - the caller's tenant: GET /v1/tenant shows it with the secret that signs
 * its delivery callbacks (made on first need), PATCH /v1/tenant sets webhook_url,
 * where callbacks go for messages sent without a callback_url. Admin scope.
 */
#include "gatewayd/gatewayd.h"
#include "common/webhook_secret.h"

#include <string.h>

#define TENANT_JSON \
	"json_build_object('id', id, 'name', name, 'webhook_url', webhook_url," \
	" 'webhook_secret', webhook_secret, 'created_at', created_at)"

static const char get_sql[] =
	"UPDATE tenants SET webhook_secret = coalesce(webhook_secret, $2) WHERE id = $1"
	" RETURNING " TENANT_JSON;
static const char patch_sql[] =
	"UPDATE tenants SET webhook_url = $3, webhook_secret = coalesce(webhook_secret, $2)"
	" WHERE id = $1 RETURNING " TENANT_JSON;

void gw_tenant_get(struct gw_req *r)
{
	char tenant[24], secret[TGM_WEBHOOK_SECRET_LEN + 1];
	const char *p[2] = { tenant, secret };

	gw_tenant_param(r, tenant);
	tgm_webhook_secret_new(secret);
	gw_query_sql(r, get_sql, 2, p, gw_on_json);
}

void gw_tenant_update(struct gw_req *r)
{
	char tenant[24], secret[TGM_WEBHOOK_SECRET_LEN + 1];
	yajl_val v = tgm_json_get(r->body, "webhook_url");
	const char *url = v && YAJL_IS_STRING(v) ? v->u.string : NULL;
	const char *p[3] = { tenant, secret, url };

	for (size_t i = 0; r->body && i < r->body->u.object.len; i++)
		if (strcmp(r->body->u.object.keys[i], "webhook_url") != 0) {
			gw_reply_problem(r, 422, "unknown_field", "only webhook_url can change",
					 r->body->u.object.keys[i]);
			return;
		}
	if (v == NULL || (!YAJL_IS_NULL(v) && (url == NULL || strlen(url) > 2048 ||
		(strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)))) {
		gw_reply_problem(r, 422, "invalid_field", "webhook_url must be an http(s) URL or null",
				 "webhook_url");
		return;
	}
	gw_tenant_param(r, tenant);
	tgm_webhook_secret_new(secret);
	gw_query_sql(r, patch_sql, 3, p, gw_on_json);
}
