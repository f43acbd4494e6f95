/*
 * botsettings.c - GET /v1/bot-settings: the table of bot settings (common/botset.c)
 * as JSON, so that a form (the dashboard's) can be made from it: a new setting shows
 * up without page code.
 */
#include "gatewayd/gatewayd.h"
#include "common/botset.h"

#include <string.h>

/* type_name - a setting type's word in the API */
static const char *type_name(enum tgm_botset_type t)
{
	return t == TGM_BOTSET_INT      ? "integer"
	       : t == TGM_BOTSET_BOOL   ? "boolean"
	       : t == TGM_BOTSET_CHOICE ? "choice"
	       : t == TGM_BOTSET_TEXTS  ? "object"
					: "string";
}

/* setting - one key of the table as an object */
static void setting(yajl_gen g, const struct tgm_botset_key *k)
{
	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "name", k->name);
	tgm_jgen_kstr(g, "type", type_name(k->type));
	if (k->type == TGM_BOTSET_INT) {
		tgm_jgen_kint(g, "min", k->min);
		tgm_jgen_kint(g, "max", k->max);
	}
	if (k->type == TGM_BOTSET_STRING)
		tgm_jgen_kint(g, "max_length", k->max);
	tgm_jgen_kstr(g, "default", k->def);
	if (k->type == TGM_BOTSET_CHOICE) {
		const char *p = k->choices;

		tgm_jgen_key(g, "choices");
		yajl_gen_array_open(g);
		while (*p) {
			size_t n = strcspn(p, "|");

			tgm_jgen_strn(g, p, n);
			p += n + (p[n] == '|');
		}
		yajl_gen_array_close(g);
	}
	tgm_jgen_kstr(g, "help", k->help);
	yajl_gen_map_close(g);
}

void gw_bot_settings(struct gw_req *r)
{
	size_t n;
	const struct tgm_botset_key *keys = tgm_botset_keys(&n);
	yajl_gen g = tgm_jgen_new();

	yajl_gen_map_open(g);
	tgm_jgen_key(g, "settings");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++)
		setting(g, &keys[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	gw_reply_json(r, 200, g);
}
