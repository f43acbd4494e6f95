/*
 * texts.c - a bot's own texts (docs/texts.md): GET /v1/bots/{id}/texts?lang=ru lists
 * every text of the catalog in a language with the bot's own text over it (or null);
 * PUT /v1/bots/{id}/texts/{lang}/{name} {"text": "..."} sets one, DELETE takes it away.
 * They are kept in the bot's settings (settings.texts.<lang>.<name>), so webhookd and
 * billingd read them with the rest of the settings; the names are the catalog's.
 */
#include "gatewayd/gatewayd.h"
#include "common/json.h"
#include "common/text.h"
#include "common/utf8.h"

#include <stdio.h>
#include <string.h>

#define BOT_OF_PATH "bots b WHERE b.id = $1 AND b.tenant_id = $2 AND b.deleted_at IS NULL"

static const char read_sql[] = "SELECT b.settings::text FROM " BOT_OF_PATH;

/* $3 lang, $4 name, $5 text; a 17th language is refused (NULL row 0 column 0) */
static const char set_sql[] =
	"UPDATE bots b SET settings = jsonb_set(b.settings, '{texts}',"
	"  coalesce(b.settings->'texts', '{}') || jsonb_build_object($3::text,"
	"  coalesce(b.settings->'texts'->$3, '{}') || jsonb_build_object($4::text, $5::text))),"
	" updated_at = now()"
	" WHERE b.id = $1 AND b.tenant_id = $2 AND b.deleted_at IS NULL"
	"  AND (b.settings->'texts' ? $3 OR (SELECT count(*) FROM jsonb_object_keys("
	"   coalesce(b.settings->'texts', '{}'))) < 16)"
	" RETURNING 1";

static const char delete_sql[] =
	"UPDATE bots b SET settings = b.settings #- ARRAY['texts', $3, $4], updated_at = now()"
	" FROM (SELECT 1) x WHERE b.id = $1 AND b.tenant_id = $2 AND b.deleted_at IS NULL"
	" RETURNING 1";

/* lang_ok - a language code: 2 or 3 lower-case letters */
static bool lang_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return false;
	return n >= 2 && n <= 3;
}

/* on_read - the bot's settings: every text of the catalog in lang, the bot's over it */
static void on_read(struct gw_req *r, PGresult *res, const char *err)
{
	const char *lang = gw_query(r, "lang"), *name;
	yajl_val settings, own;
	yajl_gen g;
	char perr[64];

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) != 1) {
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
		return;
	}
	settings = tgm_json_parse(PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)),
				  strlen(PQgetvalue(res, 0, 0)) + 1, TGM_JSON_MAX_DEPTH, perr,
				  sizeof(perr));
	lang = lang ? lang : tgm_text_lang(settings, NULL, perr);
	own = tgm_json_get(tgm_json_get(settings, "texts"), lang);
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "lang", lang);
	tgm_jgen_key(g, "texts");
	yajl_gen_array_open(g);
	for (size_t i = 0; (name = tgm_text_name(i)) != NULL; i++) {
		const char *mine = own ? tgm_json_get_str(own, name) : NULL;

		yajl_gen_map_open(g);
		tgm_jgen_kstr(g, "name", name);
		tgm_jgen_kstr(g, "catalog", tgm_text(name, lang));
		tgm_jgen_key(g, "own");
		if (mine)
			tgm_jgen_str(g, mine);
		else
			yajl_gen_null(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	if (settings)
		yajl_tree_free(settings);
	gw_reply_json(r, 200, g);
}

void gw_texts_list(struct gw_req *r)
{
	char tenant[24];
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };
	const char *lang = gw_query(r, "lang");

	if (lang && !lang_ok(lang)) {
		gw_reply_problem(r, 422, "invalid_field",
				 "lang must be a language code of 2 or 3"
				 " lower-case letters",
				 "lang");
		return;
	}
	gw_tenant_param(r, tenant);
	gw_query_sql(r, read_sql, 2, p, on_read);
}

/* on_changed - the text set or taken away (webhookd reloads the bot on tgm_bots) */
static void on_changed(struct gw_req *r, PGresult *res, const char *err)
{
	yajl_gen g;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) != 1) {
		gw_reply_problem(r, 404, "bot_not_found",
				 "no such bot, or it has texts in 16"
				 " languages already",
				 NULL);
		return;
	}
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "lang", tgm_http_param(&r->params, "lang"));
	tgm_jgen_kstr(g, "name", tgm_http_param(&r->params, "name"));
	tgm_jgen_key(g, "text");
	if (r->body && tgm_json_get_str(r->body, "text"))
		tgm_jgen_str(g, tgm_json_get_str(r->body, "text"));
	else
		yajl_gen_null(g);
	yajl_gen_map_close(g);
	gw_reply_json(r, 200, g);
}

/* path_ok - the path's lang and name are a language code and a text of the catalog;
 * false after a 422 */
static bool path_ok(struct gw_req *r)
{
	if (!lang_ok(tgm_http_param(&r->params, "lang"))) {
		gw_reply_problem(r, 422, "invalid_field",
				 "lang must be a language code of 2 or 3"
				 " lower-case letters",
				 "lang");
		return false;
	}
	if (!tgm_text_has(tgm_http_param(&r->params, "name"))) {
		gw_reply_problem(r, 422, "invalid_field",
				 "name must be a text of the catalog"
				 " (GET /v1/bots/{id}/texts lists them)",
				 "name");
		return false;
	}
	return true;
}

void gw_texts_set(struct gw_req *r)
{
	char tenant[24];
	const char *text = r->body ? tgm_json_get_str(r->body, "text") : NULL;
	const char *p[5] = { tgm_http_param(&r->params, "id"), tenant,
			     tgm_http_param(&r->params, "lang"), tgm_http_param(&r->params, "name"),
			     text };

	if (!path_ok(r))
		return;
	if (text == NULL || r->body->u.object.len != 1 || !*text || strlen(text) > TGM_TEXT_MAX ||
	    !tgm_utf8_valid(text)) {
		gw_reply_problem(r, 422, "invalid_field",
				 "the body is {\"text\": \"...\"}, 1 to 4096"
				 " bytes of UTF-8",
				 "text");
		return;
	}
	gw_tenant_param(r, tenant);
	gw_query_sql(r, set_sql, 5, p, on_changed);
}

void gw_texts_delete(struct gw_req *r)
{
	char tenant[24];
	const char *p[4] = { tgm_http_param(&r->params, "id"), tenant,
			     tgm_http_param(&r->params, "lang"),
			     tgm_http_param(&r->params, "name") };

	if (!path_ok(r))
		return;
	gw_tenant_param(r, tenant);
	gw_query_sql(r, delete_sql, 4, p, on_changed);
}
