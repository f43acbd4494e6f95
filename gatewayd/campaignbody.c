/*
 * campaignbody.c - a campaign's (or a preset's) body read and checked (see campaigns.h):
 * name, bot_ids, audience (its filters, each checked by kind), message (checked like
 * POST /v1/messages checks one, by validate.c, with a stand-in chat_id: each recipient's
 * is set when the campaign starts), gift, start_at and preset_id. A gift without a
 * message gets the catalog's text (common/text.c: campaign_gift): the message is the
 * English one, and its params keep the text in every language of the catalog under
 * tgm_texts, from which each recipient's is picked when the campaign starts
 * (sql/functions/campaign_gift_params.sql). Unknown fields are refused by name.
 */
#include "gatewayd/campaigns.h"
#include "gatewayd/validate.h"
#include "common/buf.h"
#include "common/text.h"
#include "common/utf8.h"
#include "common/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_CHARS 200
#define BOTS_MAX 20
#define LANGS_MAX 100
#define TAGS_MAX 100
#define GIFT_MAX 1000000000
#define BALANCE_MAX 1000000000000000LL

static const char *const message_fields[] = {
	"text",
	"photo",
	"document",
	"caption",
	"parse_mode",
	"reply_markup",
	"disable_notification",
	"protect_content",
	NULL,
};

static const char *const time_filters[] = {
	"last_seen_after", "last_seen_before", "first_seen_after", "first_seen_before", NULL,
};

/* one_of - name is in the NULL-ended list */
static bool one_of(const char *name, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

/* chars - the characters of s */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* invalid - a 422 invalid_field on field; false */
static bool invalid(struct gw_req *r, const char *field, const char *detail)
{
	gw_reply_problem(r, 422, "invalid_field", detail, field);
	return false;
}

/* read_bots - bot_ids: 1 to 20 distinct positive integers, as "{1,2}" */
static bool read_bots(struct gw_req *r, yajl_val v, struct gw_campaign_in *in)
{
	struct tgm_buf b;
	size_t n = YAJL_IS_ARRAY(v) ? v->u.array.len : 0;

	for (size_t i = 0; i < n; i++) {
		yajl_val x = v->u.array.values[i];

		if (!YAJL_IS_INTEGER(x) || YAJL_GET_INTEGER(x) <= 0)
			n = 0;
		for (size_t j = 0; n && j < i; j++)
			if (YAJL_GET_INTEGER(v->u.array.values[j]) == YAJL_GET_INTEGER(x))
				n = 0;
	}
	if (n == 0 || n > BOTS_MAX)
		return invalid(r, "bot_ids", "bot_ids must be 1 to 20 distinct bot ids");
	tgm_buf_init(&b);
	for (size_t i = 0; i < n; i++)
		tgm_buf_printf(&b, "%s%lld", i ? "," : "{",
			       (long long)YAJL_GET_INTEGER(v->u.array.values[i]));
	tgm_buf_addc(&b, '}');
	in->bot_ids = tgm_buf_steal(&b);
	return true;
}

/* valid_language - 2 to 8 ASCII letters (a language code's first part) */
static bool valid_language(yajl_val x)
{
	size_t n;

	if (!YAJL_IS_STRING(x))
		return false;
	n = strlen(x->u.string);
	for (size_t i = 0; i < n; i++)
		if (!isalpha((unsigned char)x->u.string[i]))
			return false;
	return n >= 2 && n <= 8;
}

/* tiers_ok - a non-empty array of tiers (docs/tiers.md): new, regular, vip */
static bool tiers_ok(yajl_val x)
{
	size_t n = YAJL_IS_ARRAY(x) ? x->u.array.len : 0;

	for (size_t i = 0; i < n; i++) {
		const char *t = YAJL_GET_STRING(x->u.array.values[i]);

		if (t == NULL || (strcmp(t, "new") && strcmp(t, "regular") && strcmp(t, "vip")))
			return false;
	}
	return n >= 1 && n <= 3;
}

/* tag_ids_ok - 1 to TAGS_MAX distinct positive integers (tag ids) */
static bool tag_ids_ok(yajl_val x)
{
	size_t n = YAJL_IS_ARRAY(x) ? x->u.array.len : 0;

	for (size_t i = 0; i < n; i++) {
		yajl_val t = x->u.array.values[i];

		if (!YAJL_IS_INTEGER(t) || YAJL_GET_INTEGER(t) <= 0)
			return false;
		for (size_t j = 0; j < i; j++)
			if (YAJL_GET_INTEGER(x->u.array.values[j]) == YAJL_GET_INTEGER(t))
				return false;
	}
	return n >= 1 && n <= TAGS_MAX;
}

/* filter_ok - one audience filter's value; NULL when fine, else what is wrong */
static const char *filter_ok(const char *k, yajl_val x)
{
	if (strcmp(k, "tags") == 0 || strcmp(k, "exclude_tags") == 0)
		return tag_ids_ok(x) ? NULL : "must be 1 to 100 distinct tag ids";
	if (strcmp(k, "languages") == 0) {
		size_t n = YAJL_IS_ARRAY(x) ? x->u.array.len : 0;

		for (size_t i = 0; i < n; i++)
			if (!valid_language(x->u.array.values[i]))
				n = 0;
		return n && n <= LANGS_MAX
			       ? NULL
			       : "languages must be 1 to 100 language codes like \"en\"";
	}
	if (one_of(k, time_filters))
		return YAJL_IS_STRING(x) && gw_valid_time(x->u.string)
			       ? NULL
			       : "must be an RFC 3339 time like 2026-11-23T12:00:00Z";
	if (strcmp(k, "balance_min") == 0 || strcmp(k, "balance_max") == 0)
		return YAJL_IS_INTEGER(x) && YAJL_GET_INTEGER(x) >= 0 &&
				       YAJL_GET_INTEGER(x) <= BALANCE_MAX
			       ? NULL
			       : "must be an integer from 0 to 10^15";
	if (strcmp(k, "paid") == 0)
		return YAJL_IS_TRUE(x) || YAJL_IS_FALSE(x) ? NULL : "paid must be true or false";
	if (strcmp(k, "tiers") == 0)
		return tiers_ok(x) ? NULL : "tiers must be 1 to 3 of new, regular and vip";
	return "";
}

/* read_audience - the audience's filters checked, as canonical JSON */
static bool read_audience(struct gw_req *r, yajl_val v, struct gw_campaign_in *in)
{
	yajl_gen g;

	if (!YAJL_IS_OBJECT(v))
		return invalid(r, "audience", "audience must be an object of filters");
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *k = v->u.object.keys[i], *why = filter_ok(k, v->u.object.values[i]);

		if (why && *why == '\0') {
			gw_reply_problem(r, 422, "unknown_field",
					 "an audience filters by languages,"
					 " last_seen_after, last_seen_before, first_seen_after,"
					 " first_seen_before, balance_min, balance_max, paid, tags,"
					 " exclude_tags and tiers",
					 k);
			return false;
		}
		if (why)
			return invalid(r, k, why);
	}
	g = tgm_jgen_new();
	tgm_jgen_canonical(g, v);
	in->audience = tgm_xstrdup(tgm_jgen_text(g, NULL));
	yajl_gen_free(g);
	return true;
}

/* check_message - text as a message to a stand-in chat, checked by validate.c */
static bool check_message(struct gw_req *r, const char *text, struct gw_campaign_in *in)
{
	char err[128];
	yajl_val item = tgm_json_parse(text, strlen(text), strlen(text) + 1, TGM_JSON_MAX_DEPTH,
				       err, sizeof(err));
	struct gw_problem pb = { 0 };
	struct gw_msg *m = item ? gw_validate_message(item, r->tenant_id, 0, &pb) : NULL;
	char field[80];

	yajl_tree_free(item);
	if (m == NULL) {
		snprintf(field, sizeof(field), "message%s%s", pb.field[0] ? "." : "", pb.field);
		gw_reply_problem(r, 422, pb.type ? pb.type : "invalid_field",
				 pb.type ? pb.detail : "message is not valid JSON", field);
		return false;
	}
	in->method = tgm_xstrdup(m->method);
	in->params = tgm_xstrdup(m->params);
	gw_msg_free(m);
	return true;
}

/* read_message - the message's fields: as given, and checked */
static bool read_message(struct gw_req *r, yajl_val v, struct gw_campaign_in *in)
{
	yajl_gen g;
	bool ok;

	if (!YAJL_IS_OBJECT(v))
		return invalid(r, "message",
			       "message must be an object: text (or photo or"
			       " document with a caption), parse_mode, reply_markup, ...");
	for (size_t i = 0; i < v->u.object.len; i++)
		if (!one_of(v->u.object.keys[i], message_fields)) {
			gw_reply_problem(r, 422, "unknown_field",
					 "a message has text, photo,"
					 " document, caption, parse_mode, reply_markup,"
					 " disable_notification and protect_content",
					 v->u.object.keys[i]);
			return false;
		}
	g = tgm_jgen_new();
	tgm_jgen_canonical(g, v);
	in->message = tgm_xstrdup(tgm_jgen_text(g, NULL));
	yajl_gen_free(g);
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "chat_id", 1);
	for (size_t i = 0; i < v->u.object.len; i++) {
		tgm_jgen_key(g, v->u.object.keys[i]);
		tgm_jgen_tree(g, v->u.object.values[i]);
	}
	yajl_gen_map_close(g);
	ok = check_message(r, tgm_jgen_text(g, NULL), in);
	yajl_gen_free(g);
	return ok;
}

/* gift_texts - in->params with tgm_texts added: the catalog's campaign_gift in each of
 * its languages, {gift} filled ({credits} is filled per recipient at the start) */
static void gift_texts(struct gw_campaign_in *in)
{
	yajl_val v = tgm_json_parse(in->params, strlen(in->params), strlen(in->params) + 1,
				    TGM_JSON_MAX_DEPTH, NULL, 0);
	yajl_gen g = tgm_jgen_new();
	const char *lang, *t;
	char text[512];

	yajl_gen_map_open(g);
	for (size_t i = 0; YAJL_IS_OBJECT(v) && i < v->u.object.len; i++) {
		tgm_jgen_key(g, v->u.object.keys[i]);
		tgm_jgen_tree(g, v->u.object.values[i]);
	}
	tgm_jgen_key(g, "tgm_texts");
	yajl_gen_map_open(g);
	for (size_t n = 0; (t = tgm_text_nth("campaign_gift", n, &lang)) != NULL; n++)
		tgm_jgen_kstr(g, lang,
			      tgm_text_fill(text, sizeof(text), t,
					    (const char *const[]){ "gift", in->gift, NULL }));
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	free(in->params);
	in->params = tgm_xstrdup(tgm_jgen_text(g, NULL));
	yajl_gen_free(g);
	yajl_tree_free(v);
}

/* gift_message - the catalog's text telling a user of the gift, as the message */
static bool gift_message(struct gw_req *r, struct gw_campaign_in *in)
{
	char text[512];
	yajl_gen g = tgm_jgen_new();
	yajl_val v;
	const char *json;
	bool ok;

	tgm_text_fill(text, sizeof(text), tgm_text("campaign_gift", NULL),
		      (const char *const[]){ "gift", in->gift, NULL });
	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "text", text);
	yajl_gen_map_close(g);
	json = tgm_jgen_text(g, NULL);
	v = tgm_json_parse(json, strlen(json), strlen(json) + 1, 2, NULL, 0);
	ok = read_message(r, v, in);
	if (ok)
		gift_texts(in);
	yajl_tree_free(v);
	yajl_gen_free(g);
	return ok;
}

/* read_number - a positive integer up to max into num (null: *null set); false after a
 * 422 */
static bool read_number(struct gw_req *r, const char *k, yajl_val v, int64_t max, char num[24],
			const char **out, bool *null)
{
	char d[80];

	if (YAJL_IS_NULL(v)) {
		*null = true;
		return true;
	}
	if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) <= 0 || YAJL_GET_INTEGER(v) > max) {
		snprintf(d, sizeof(d), "%s must be an integer from 1 to %lld", k, (long long)max);
		return invalid(r, k, d);
	}
	snprintf(num, 24, "%lld", (long long)YAJL_GET_INTEGER(v));
	*out = num;
	return true;
}

/* read_text - name or start_at */
static bool read_text(struct gw_req *r, const char *k, yajl_val v, struct gw_campaign_in *in)
{
	if (YAJL_IS_NULL(v)) {
		in->null_start |= strcmp(k, "start_at") == 0;
		return true;
	}
	if (strcmp(k, "name") == 0) {
		if (!YAJL_IS_STRING(v) || chars(v->u.string) > NAME_MAX_CHARS)
			return invalid(r, k, "name must be a string of up to 200 characters");
		in->name = v->u.string;
		return true;
	}
	if (!YAJL_IS_STRING(v) || !gw_valid_time(v->u.string))
		return invalid(r, k, "start_at must be an RFC 3339 time like 2026-11-23T12:00:00Z");
	in->start_at = v->u.string;
	return true;
}

/* read_field - one field of the body; false after a 422 */
static bool read_field(struct gw_req *r, const char *k, yajl_val v, struct gw_campaign_in *in,
		       enum gw_campaign_body kind)
{
	bool preset = kind == GW_CAMPAIGN_PRESET, unused;

	if (strcmp(k, "name") == 0 || (!preset && strcmp(k, "start_at") == 0))
		return read_text(r, k, v, in);
	if (strcmp(k, "bot_ids") == 0)
		return read_bots(r, v, in);
	if (strcmp(k, "audience") == 0)
		return read_audience(r, v, in);
	if (strcmp(k, "message") == 0)
		return read_message(r, v, in);
	if (strcmp(k, "gift") == 0)
		return read_number(r, k, v, GIFT_MAX, in->num_gift, &in->gift, &in->null_gift);
	if (kind == GW_CAMPAIGN_NEW && strcmp(k, "preset_id") == 0)
		return read_number(r, k, v, INT64_MAX, in->num_preset, &in->preset_id, &unused);
	gw_reply_problem(
		r, 422, "unknown_field",
		preset ? "a preset has name, bot_ids, audience, message and gift"
		: kind == GW_CAMPAIGN_PATCH
			? "a draft's name, bot_ids, audience, message, gift and start_at change"
			: "a campaign has name, bot_ids, audience, message, gift, start_at and"
			  " preset_id",
		k);
	return false;
}

/* campaignbody_free - free what a body's fields own */
static void campaignbody_free(void *data)
{
	struct gw_campaign_in *in = data;

	free(in->bot_ids);
	free(in->audience);
	free(in->message);
	free(in->method);
	free(in->params);
	free(in);
}

/* read_all - every field, then what must be there; false after a 422 */
static bool read_all(struct gw_req *r, yajl_val body, struct gw_campaign_in *in,
		     enum gw_campaign_body kind)
{
	bool preset = kind == GW_CAMPAIGN_PRESET;

	for (size_t i = 0; i < body->u.object.len; i++)
		if (!read_field(r, body->u.object.keys[i], body->u.object.values[i], in, kind))
			return false;
	if (kind == GW_CAMPAIGN_PATCH)
		return true;
	if (in->preset_id == NULL && in->bot_ids == NULL)
		return invalid(r, "bot_ids", "bot_ids is required (or a preset_id)");
	if (preset && in->name == NULL)
		return invalid(r, "name", "a preset needs a name");
	if (in->message == NULL && in->gift && in->preset_id == NULL)
		return gift_message(r, in);
	if (in->message == NULL && in->preset_id == NULL)
		return invalid(r, "message", "message is required (or a gift, or a preset_id)");
	return true;
}

struct gw_campaign_in *gw_campaignbody_read(struct gw_req *r, enum gw_campaign_body kind)
{
	struct gw_campaign_in *in;

	if (r->body == NULL || !YAJL_IS_OBJECT(r->body)) {
		gw_reply_problem(r, 400, "invalid_json", "send the campaign as a JSON object",
				 NULL);
		return NULL;
	}
	in = tgm_xcalloc(1, sizeof(*in));
	r->data = in;
	r->data_free = campaignbody_free;
	return read_all(r, r->body, in, kind) ? in : NULL;
}
