/*
 * botwebhook.c - the Bot API's webhook methods, answered by tgm, not Telegram: tgm
 * keeps its own webhook at Telegram, and a bot's "webhook" is where tgm forwards its
 * stored updates. getWebhookInfo tells the truth about that (pending_update_count:
 * the updates not yet confirmed; the last forwarding error); setWebhook records the
 * bot's URL and secret_token (sealed) for webhookd's forward.c; deleteWebhook (or a
 * setWebhook with an empty url) stops it; drop_pending_updates confirms every update
 * stored so far.
 */
#include "gatewayd/botparams.h"
#include "gatewayd/gatewayd.h"
#include "common/crypto.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char info_sql[] =
	"SELECT s.webhook_url, extract(epoch FROM s.webhook_error_at)::bigint, s.webhook_error,"
	" botapi_pending($1), s.allowed_updates::text"
	" FROM (SELECT $1::bigint AS id) b LEFT JOIN botapi_updates s ON s.bot_id = b.id";

static const char delete_sql[] = "SELECT botapi_delete_webhook($1, $2)";
static const char set_sql[] = "SELECT botapi_set_webhook($1, $2, $3, $4::text[], $5)";

#define SECRET_MAX 256

bool gw_botwebhook_method(const char *method)
{
	return strcasecmp(method, "deleteWebhook") == 0 ||
	       strcasecmp(method, "getWebhookInfo") == 0 || strcasecmp(method, "setWebhook") == 0;
}

/* params - the call's parameters, or NULL after a 400 */
static yajl_val params(struct gw_req *r)
{
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req));
	char err[200], why[260];
	yajl_val v;

	r->body_text = tgm_http_body(r->req, &r->body_len);
	v = gw_botparams_parse(q, gw_header(r, "Content-Type"), r->body_text, r->body_len, err,
			       sizeof(err));
	if (v == NULL) {
		snprintf(why, sizeof(why), "Bad Request: %s", err);
		gw_botapi_error(r, 400, why, 0);
	}
	return v;
}

/* allowed_array - a PostgreSQL text[] literal ({a,b}) as a JSON array of strings */
static void allowed_array(yajl_gen g, const char *lit)
{
	const char *s = lit + 1, *e;

	yajl_gen_array_open(g);
	while (*s && *s != '}') {
		e = s + strcspn(s, ",}");
		tgm_jgen_strn(g, s, (size_t)(e - s));
		s = *e == ',' ? e + 1 : e;
	}
	yajl_gen_array_close(g);
}

/* on_info - the bot's webhook row: getWebhookInfo's answer, as Telegram words it */
static void on_info(struct gw_req *r, PGresult *res, const char *err)
{
	yajl_gen g;
	int64_t n = 0;

	if (err) {
		log_warn("botapi: getWebhookInfo: %s", err);
		gw_botapi_error(r, 500, "Internal Server Error: the webhook could not be read", 0);
		return;
	}
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	tgm_jgen_kbool(g, "ok", true);
	tgm_jgen_key(g, "result");
	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "url", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
	tgm_jgen_kbool(g, "has_custom_certificate", false);
	tgm_parse_int64(PQgetvalue(res, 0, 3), &n);
	tgm_jgen_kint(g, "pending_update_count", n);
	if (!PQgetisnull(res, 0, 1) && tgm_parse_int64(PQgetvalue(res, 0, 1), &n)) {
		tgm_jgen_kint(g, "last_error_date", n);
		tgm_jgen_kstr(g, "last_error_message", PQgetvalue(res, 0, 2));
	}
	if (!PQgetisnull(res, 0, 0))
		tgm_jgen_kint(g, "max_connections", 40);
	if (!PQgetisnull(res, 0, 4) && strcmp(PQgetvalue(res, 0, 4), "{}") != 0) {
		tgm_jgen_key(g, "allowed_updates");
		allowed_array(g, PQgetvalue(res, 0, 4));
	}
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	gw_reply_json(r, 200, g);
}

/* on_deleted - botapi_delete_webhook: whether there was a webhook to delete */
static void on_deleted(struct gw_req *r, PGresult *res, const char *err)
{
	if (err) {
		log_warn("botapi: deleteWebhook: %s", err);
		gw_botapi_error(r, 500, "Internal Server Error: the webhook could not be deleted",
				0);
		return;
	}
	gw_reply_raw(
		r, 200,
		strcmp(PQgetvalue(res, 0, 0), "t") == 0
			? "{\"ok\":true,\"result\":true,\"description\":\"Webhook was deleted\"}"
			: "{\"ok\":true,\"result\":true,\"description\":\"Webhook is already deleted\"}");
}

/* on_set - botapi_set_webhook: the webhook was set */
static void on_set(struct gw_req *r, PGresult *res, const char *err)
{
	if (err) {
		log_warn("botapi: setWebhook: %s", err);
		gw_botapi_error(r, 500, "Internal Server Error: the webhook could not be set", 0);
		return;
	}
	gw_reply_raw(r, 200, "{\"ok\":true,\"result\":true,\"description\":\"Webhook was set\"}");
}

/* secret_ok - a secret_token as Telegram takes it: 1-256 of A-Z, a-z, 0-9, _ and - */
static bool secret_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= SECRET_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* set_webhook - record url (http or https: tgm forwards from where it runs) and secret */
static void set_webhook(struct gw_req *r, const char *bot, yajl_val v)
{
	const char *url = tgm_json_get_str(v, "url");
	const char *secret = tgm_json_get_str(v, "secret_token");
	char aad[64], *sealed = NULL, *allowed;
	const char *p[5] = { bot, url, NULL, NULL, NULL };

	if (url == NULL || *url == '\0') {
		p[1] = gw_botparams_bool(v, "drop_pending_updates") ? "true" : "false";
		gw_query_sql(r, delete_sql, 2, p, on_deleted);
		return;
	}
	if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0) {
		gw_botapi_error(r, 400,
				"Bad Request: bad webhook: An HTTPS URL must be provided"
				" for webhook",
				0);
		return;
	}
	if (secret && *secret && !secret_ok(secret)) {
		gw_botapi_error(r, 400, "Bad Request: secret token contains unallowed characters",
				0);
		return;
	}
	if (secret && *secret) {
		snprintf(aad, sizeof(aad), "bot:%s:botapi_webhook", bot);
		sealed = tgm_seal(r->gw->ctx->secret_key, secret, strlen(secret), aad);
	}
	allowed = gw_botparams_strings(v, "allowed_updates");
	p[2] = sealed;
	p[3] = allowed;
	p[4] = gw_botparams_bool(v, "drop_pending_updates") ? "true" : "false";
	gw_query_sql(r, set_sql, 5, p, on_set);
	free(sealed);
	free(allowed);
}

void gw_botwebhook(struct gw_req *r, int64_t bot_id, const char *method)
{
	char bot[24];
	const char *p[2] = { bot, "false" };
	yajl_val v = params(r);

	if (v == NULL)
		return;
	snprintf(bot, sizeof(bot), "%lld", (long long)bot_id);
	if (strcasecmp(method, "getWebhookInfo") == 0) {
		gw_query_sql(r, info_sql, 1, p, on_info);
	} else if (strcasecmp(method, "deleteWebhook") == 0) {
		p[1] = gw_botparams_bool(v, "drop_pending_updates") ? "true" : "false";
		gw_query_sql(r, delete_sql, 2, p, on_deleted);
	} else {
		set_webhook(r, bot, v);
	}
	yajl_tree_free(v);
}
