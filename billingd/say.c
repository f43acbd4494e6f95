/*
 * say.c - build what billingd says (see say.h): placeholders from a notice's arguments
 * and from words made here (money, counts, dates, what a product gives), texts from
 * the catalog, buttons, and the Telegram call they make.
 */
#include "billingd/say.h"
#include "common/json.h"
#include "common/money.h"
#include "common/text.h"
#include "common/utf8.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TITLE_CHARS 32        /* sendInvoice's title and price label */
#define DESCRIPTION_CHARS 255 /* sendInvoice's description */

/* slot - the index of key's value, a new one when absent (-1: full) */
static int slot(struct bd_say *s, const char *key)
{
	for (int i = 0; i < s->nvars; i++)
		if (strcmp(s->vars[2 * i], key) == 0)
			return i;
	if (s->nvars == BD_SAY_VARS)
		return -1;
	s->vars[2 * s->nvars] = key;
	s->vars[2 * s->nvars + 1] = s->val[s->nvars];
	return s->nvars++;
}

void bd_say_set(struct bd_say *s, const char *key, const char *fmt, ...)
{
	int i = slot(s, key);
	va_list ap;

	if (i < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(s->val[i], BD_SAY_VAL, fmt, ap);
	va_end(ap);
	tgm_utf8_cut(s->val[i], strlen(s->val[i]));
}

const char *bd_say_get(const struct bd_say *s, const char *key)
{
	for (int i = 0; i < s->nvars; i++)
		if (strcmp(s->vars[2 * i], key) == 0)
			return s->val[i];
	return NULL;
}

bool bd_say_int(const struct bd_say *s, const char *key, int64_t *out)
{
	return tgm_json_get_int(s->args, key, out);
}

struct bd_say *bd_say_new(yajl_val args)
{
	struct bd_say *s = tgm_xcalloc(1, sizeof(*s));

	s->args = args;
	tgm_buf_init(&s->text);
	for (size_t i = 0; YAJL_IS_OBJECT(args) && i < args->u.object.len; i++) {
		yajl_val v = args->u.object.values[i];

		if (YAJL_IS_STRING(v))
			bd_say_set(s, args->u.object.keys[i], "%s", v->u.string);
		else if (YAJL_IS_NUMBER(v))
			bd_say_set(s, args->u.object.keys[i], "%s", v->u.number.r);
	}
	return s;
}

void bd_say_lang(struct bd_say *s, yajl_val settings, const char *lang)
{
	s->settings = settings;
	snprintf(s->lang, sizeof(s->lang), "%s", lang ? lang : "");
}

const char *bd_say_word(const struct bd_say *s, const char *name)
{
	return tgm_text_bot(s->settings, name, *s->lang ? s->lang : NULL);
}

void bd_say_free(struct bd_say *s)
{
	for (int i = 0; i < s->nbuttons; i++) {
		free(s->buttons[i].text);
		free(s->buttons[i].kind);
		free(s->buttons[i].value);
	}
	free(s->buttons);
	tgm_buf_free(&s->text);
	free(s);
}

void bd_say_money(struct bd_say *s, const char *key, int64_t amount, const char *currency)
{
	char out[48];

	bd_say_set(s, key, "%s", tgm_money(out, sizeof(out), amount, currency));
}

void bd_say_count(struct bd_say *s, const char *key, const char *name, int64_t n)
{
	char out[BD_SAY_VAL];

	bd_say_set(s, key, "%s",
		   tgm_text_count_bot(out, sizeof(out), s->settings, name, n,
				      *s->lang ? s->lang : NULL));
}

void bd_say_date(struct bd_say *s, const char *key, int64_t t, bool minute)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char out[64] = "";

	if (gmtime_r(&tt, &tm))
		strftime(out, sizeof(out), minute ? "%Y-%m-%d %H:%M" : "%Y-%m-%d", &tm);
	bd_say_set(s, key, "%s", out);
}

void bd_say_what(struct bd_say *s, const char *key, int64_t credits, int64_t pass_seconds)
{
	char c[256] = "", p[256] = "", both[BD_SAY_VAL];
	const char *lang = *s->lang ? s->lang : NULL;

	if (credits > 0)
		tgm_text_count_bot(c, sizeof(c), s->settings, "credits", credits, lang);
	if (pass_seconds >= 86400 && pass_seconds % 86400 == 0)
		tgm_text_count_bot(p, sizeof(p), s->settings, "pass_days", pass_seconds / 86400,
				   lang);
	else if (pass_seconds > 0)
		tgm_text_count_bot(p, sizeof(p), s->settings, "pass_hours", pass_seconds / 3600,
				   lang);
	if (*c && *p)
		tgm_text_fill(both, sizeof(both), bd_say_word(s, "what_both"),
			      (const char *const[]){ "credits", c, "pass", p, NULL });
	else
		snprintf(both, sizeof(both), "%s%s", c, p);
	bd_say_set(s, key, "%s", both);
}

char *bd_say_fill(struct bd_say *s, const char *name, char *out, size_t len)
{
	s->vars[2 * s->nvars] = NULL;
	return tgm_text_fill(out, len, bd_say_word(s, name), s->vars);
}

void bd_say_text(struct bd_say *s, const char *name)
{
	char out[4096];

	tgm_buf_adds(&s->text, bd_say_fill(s, name, out, sizeof(out)));
}

void bd_say_button(struct bd_say *s, const char *text, const char *kind, const char *value)
{
	struct bd_button *b;

	s->buttons = tgm_xrealloc(s->buttons, (size_t)(s->nbuttons + 1) * sizeof(*b));
	b = &s->buttons[s->nbuttons++];
	b->text = tgm_xstrdup(text);
	b->kind = tgm_xstrdup(kind);
	b->value = tgm_xstrdup(value);
}

/* gen_keyboard - reply_markup: one button per row */
static void gen_keyboard(yajl_gen g, const struct bd_say *s)
{
	tgm_jgen_key(g, "reply_markup");
	yajl_gen_map_open(g);
	tgm_jgen_key(g, "inline_keyboard");
	yajl_gen_array_open(g);
	for (int i = 0; i < s->nbuttons; i++) {
		yajl_gen_array_open(g);
		yajl_gen_map_open(g);
		tgm_jgen_kstr(g, "text", s->buttons[i].text);
		tgm_jgen_kstr(g, s->buttons[i].kind, s->buttons[i].value);
		yajl_gen_map_close(g);
		yajl_gen_array_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

/* cut - v cut after chars characters, into out */
static const char *cut(char *out, size_t len, const char *v, size_t chars)
{
	snprintf(out, len, "%s", v ? v : "");
	tgm_utf8_cut(out, strlen(out));
	tgm_utf8_truncate(out, chars);
	return out;
}

/* gen_invoice - sendInvoice's params but chat_id: a Stars invoice for the product */
static void gen_invoice(yajl_gen g, struct bd_say *s, int64_t chat)
{
	char title[256], description[BD_SAY_VAL], payload[64];

	cut(title, sizeof(title), bd_say_get(s, "label"), TITLE_CHARS);
	cut(description, sizeof(description), bd_say_get(s, "what"), DESCRIPTION_CHARS);
	snprintf(payload, sizeof(payload), "tgm:%lld:%lld", (long long)s->product, (long long)chat);
	tgm_jgen_kstr(g, "title", title);
	tgm_jgen_kstr(g, "description", description);
	tgm_jgen_kstr(g, "payload", payload);
	tgm_jgen_kstr(g, "provider_token", "");
	tgm_jgen_kstr(g, "currency", "XTR");
	tgm_jgen_key(g, "prices");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "label", title);
	tgm_jgen_kint(g, "amount", s->stars);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
}

char *bd_say_params(struct bd_say *s, int64_t chat, const char **method)
{
	yajl_gen g = tgm_jgen_new();
	char *out;

	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "chat_id", chat);
	if (s->invoice) {
		gen_invoice(g, s, chat);
	} else {
		tgm_jgen_kstr(g, "text", s->text.p ? s->text.p : "");
		if (s->nbuttons)
			gen_keyboard(g, s);
	}
	yajl_gen_map_close(g);
	out = tgm_xstrdup(tgm_jgen_text(g, NULL));
	yajl_gen_free(g);
	*method = s->invoice ? "sendInvoice" : "sendMessage";
	return out;
}
