/*
 * menu_settings.c - the admin menu's Settings (docs/admin-centre.md), for owners: the
 * bot settings an owner changes most (message costs, the welcome text, free credits,
 * the low-balance alert, the flood limit, feature toggles), read from the database so
 * a change shows at once. A toggle's button carries the value it sets (sv:<key>:<0|1>,
 * so pressing it twice sets it once); any other value is asked for and checked as
 * gatewayd checks settings (common/botset.c) before it is stored. Every change is
 * audited, and PostgreSQL announces it to the daemons (tgm_bots).
 */
#include "webhookd/menu.h"
#include "common/botset.h"
#include "common/json.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

/* the settings the menu shows, by their place here (the arg of sv) */
static const char *const keys[] = {
	"charge_messages", "paid_broadcast", "cost_text",        "cost_photo",
	"free_credits",    "low_balance",    "flood_per_minute", "welcome",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char read_sql[] = "SELECT settings::text FROM bots WHERE id = $1";

/* $2 the key, $3 its value (JSON) */
static const char write_sql[] =
	"UPDATE bots SET settings = settings || jsonb_build_object($2::text, $3::jsonb),"
	" updated_at = now() WHERE id = $1 RETURNING id";

/* key_of - the table's entry of a setting */
static const struct tgm_botset_key *key_of(const char *name)
{
	size_t n = 0;
	const struct tgm_botset_key *all = tgm_botset_keys(&n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(all[i].name, name) == 0)
			return &all[i];
	return NULL;
}

/* value_words - a setting's value as shown: on/off, a number, a text's first 40 bytes */
static const char *value_words(const struct wh_job *j, char *out, size_t n, yajl_val settings,
			       const char *name)
{
	const struct tgm_botset_key *k = key_of(name);

	if (k->type == TGM_BOTSET_BOOL)
		snprintf(out, n, "%s",
			 wh_menu_t(j, tgm_botset_bool(settings, name) ? "menu_on" : "menu_off"));
	else if (k->type == TGM_BOTSET_INT)
		snprintf(out, n, "%lld", (long long)tgm_botset_int(settings, name));
	else
		snprintf(out, n, "%.40s%s", tgm_botset_str(settings, name),
			 strlen(tgm_botset_str(settings, name)) > 40 ? "…" : "");
	return out;
}

/* on_read - read_sql answered: a button per setting with its value */
static void on_read(struct wh_job *j, PGresult *res, const char *err)
{
	char label[200], value[160], perr[64];
	const char *json;
	yajl_val settings;

	if (err || PQntuples(res) != 1) {
		wh_menu_error(j, err ? err : "settings: no bot");
		return;
	}
	json = PQgetvalue(res, 0, 0);
	settings = tgm_json_parse(json, strlen(json), strlen(json) + 1, TGM_JSON_MAX_DEPTH, perr,
				  sizeof(perr));
	wh_menu_begin(j, wh_menu_t(j, "menu_settings_title"));
	for (size_t i = 0; i < NKEYS; i++) {
		const struct tgm_botset_key *k = key_of(keys[i]);

		snprintf(label, sizeof(label), "%s: %s", keys[i],
			 value_words(j, value, sizeof(value), settings, keys[i]));
		wh_menu_row(j);
		wh_menu_key(j, label, "sv", (int64_t)i,
			    k->type == TGM_BOTSET_BOOL ? !tgm_botset_bool(settings, keys[i]) : 0);
	}
	if (settings)
		yajl_tree_free(settings);
	wh_menu_end(j, "h", 0);
	wh_menu_done(j, "admin menu: settings");
}

/* wh_menu_settings - s */
void wh_menu_settings(struct wh_job *j)
{
	wh_menu_query(j, read_sql, on_read);
}

/* on_written - write_sql answered: audited; the settings again */
static void on_written(struct wh_job *j, PGresult *res, const char *err)
{
	(void)res;
	if (err) {
		wh_menu_error(j, err);
		return;
	}
	j->menu.toast = wh_menu_t(j, "menu_saved");
	wh_menu_show(j, "s", 0);
}

/* value_json - the new value of key k as JSON text: a toggle's from the button, else
 * the admin's input checked; false (err said) when it is not one */
static bool value_json(struct wh_job *j, const struct tgm_botset_key *k, char *out, size_t n,
		       char *err, size_t errlen)
{
	yajl_gen g = tgm_jgen_new();
	const char *json;
	char perr[64];
	yajl_val obj;
	int64_t v = 0;
	bool ok;

	yajl_gen_map_open(g);
	if (k->type == TGM_BOTSET_BOOL)
		tgm_jgen_kbool(g, k->name, j->menu.page != 0);
	else if (k->type == TGM_BOTSET_INT && wh_menu_int(j, INT64_MIN, INT64_MAX, &v))
		tgm_jgen_kint(g, k->name, v);
	else
		tgm_jgen_kstr(g, k->name, j->menu.input);
	yajl_gen_map_close(g);
	json = tgm_jgen_text(g, NULL);
	obj = tgm_json_parse(json, strlen(json), strlen(json) + 1, 4, perr, sizeof(perr));
	ok = obj && tgm_botset_check(obj, err, errlen);
	if (ok)
		snprintf(out, n, "%s", json + strlen(k->name) + 4); /* {"name":VALUE} -> VALUE} */
	if (ok)
		out[strlen(out) - 1] = '\0';
	if (obj)
		yajl_tree_free(obj);
	yajl_gen_free(g);
	return ok;
}

/* wh_menu_setting - sv: a toggle set, or a value asked for and then set */
void wh_menu_setting(struct wh_job *j)
{
	char p[24], value[4200], err[200], prompt[400], now[160], detail[4300];
	const char *params[3] = { p, NULL, value };
	const char *vars[] = { "key", NULL, "value", now, NULL };
	const struct tgm_botset_key *k;

	if ((uint64_t)j->menu.arg >= NKEYS) {
		wh_menu_nothing(j);
		return;
	}
	k = key_of(keys[j->menu.arg]);
	params[1] = vars[1] = k->name;
	if (k->type != TGM_BOTSET_BOOL && j->menu.input == NULL) {
		value_words(j, now, sizeof(now), j->bot->settings, k->name);
		wh_menu_prompt(j, wh_menu_fill(j, prompt, sizeof(prompt), "menu_setting_ask", vars),
			       "s", 0);
		return;
	}
	if (!value_json(j, k, value, sizeof(value), err, sizeof(err))) {
		j->menu.input = NULL;
		value_words(j, now, sizeof(now), j->bot->settings, k->name);
		snprintf(prompt, sizeof(prompt), "%s\n\n", err);
		wh_menu_fill(j, prompt + strlen(prompt), sizeof(prompt) - strlen(prompt),
			     "menu_setting_ask", vars);
		wh_menu_prompt(j, prompt, "s", 0);
		return;
	}
	snprintf(detail, sizeof(detail), "{\"value\":%s}", value);
	wh_audit(j, "setting", k->name, detail);
	tgm_i64(p, sizeof(p), j->bot_id);
	wh_job_query(j, write_sql, 3, params, on_written);
}
