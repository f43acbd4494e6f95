/*
 * say.h - what billingd says, built from the text catalog (common/text.c): a notice's
 * arguments become {placeholders}, words made in C (money, counts, dates) join them,
 * and the texts, buttons or Stars invoice become one Telegram call (method and
 * params). Pure: no I/O, so tests/unit/test_billingd_say.c runs it.
 */
#ifndef BILLINGD_SAY_H
#define BILLINGD_SAY_H

#include "common/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#define BD_SAY_VARS 24
#define BD_SAY_VAL 1024

/* bd_button - one inline keyboard button, on a row of its own */
struct bd_button {
	char *text, *kind, *value; /* kind: "url" or "callback_data" */
};

/* bd_say - one message being built; args borrowed for its life */
struct bd_say {
	yajl_val args;
	const char *vars[2 * BD_SAY_VARS + 1];
	char val[BD_SAY_VARS][BD_SAY_VAL];
	int nvars;
	struct tgm_buf text;
	struct bd_button *buttons;
	int nbuttons;
	yajl_val settings;      /* the bot's settings (its own texts), borrowed; or NULL */
	char lang[8];           /* the language it speaks (tgm_text_lang); "" the bot's */
	bool invoice;           /* sendInvoice in Stars rather than sendMessage */
	int64_t product, stars; /* the invoice's product and its price in Stars */
};

/* bd_say_new - a message whose {placeholders} start as the scalar members of args */
struct bd_say *bd_say_new(yajl_val args);
void bd_say_free(struct bd_say *s);
/* bd_say_lang - s speaks as the bot of settings (borrowed, may be NULL) in lang */
void bd_say_lang(struct bd_say *s, yajl_val settings, const char *lang);
/* bd_say_word - the text name as s's bot says it in s's language */
const char *bd_say_word(const struct bd_say *s, const char *name);

/* bd_say_set - set (or replace) the placeholder key; a value is cut at BD_SAY_VAL */
void bd_say_set(struct bd_say *s, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* bd_say_get - the value of key, or NULL */
const char *bd_say_get(const struct bd_say *s, const char *key);
/* bd_say_int - the integer argument key (false when absent or not an integer) */
bool bd_say_int(const struct bd_say *s, const char *key, int64_t *out);

/* bd_say_money - set key to amount (minor units) of currency, as people read it */
void bd_say_money(struct bd_say *s, const char *key, int64_t amount, const char *currency);
/* bd_say_count - set key to the count n in words (the catalog's name_one/name_other) */
void bd_say_count(struct bd_say *s, const char *key, const char *name, int64_t n);
/* bd_say_date - set key to the UTC date of t (epoch seconds), with the minute if asked:
 * "2026-12-04", "2026-12-04 09:30" */
void bd_say_date(struct bd_say *s, const char *key, int64_t t, bool minute);
/* bd_say_what - set key to what a product gives: "10 credits", "7 days of ..." */
void bd_say_what(struct bd_say *s, const char *key, int64_t credits, int64_t pass_seconds);

/* bd_say_fill - the catalog's text name with the placeholders filled, into out */
char *bd_say_fill(struct bd_say *s, const char *name, char *out, size_t len);
/* bd_say_text - add the filled text name to the message */
void bd_say_text(struct bd_say *s, const char *name);
/* bd_say_button - add a button (text as given) on a row of its own */
void bd_say_button(struct bd_say *s, const char *text, const char *kind, const char *value);

/* bd_say_params - the Telegram call's params as JSON text for chat (caller frees),
 * and its method */
char *bd_say_params(struct bd_say *s, int64_t chat, const char **method);

#endif
