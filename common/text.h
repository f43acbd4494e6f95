/*
 * text.h - every text a bot sends to a person: one catalog of entries keyed by a name
 * and a language (English and Russian are complete; a language without the entry falls
 * back to the bot's language, then English), the language a user is spoken to in, the
 * bot's own texts (settings.texts, and the older welcome, help, no_credit_text), counts
 * in each language's plural forms, and {name} placeholders filled by the caller. Texts are static:
 * nothing here is freed. See docs/texts.md.
 */
#ifndef TGM_TEXT_H
#define TGM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

/* the English texts a bot setting overrides; also the setting's default in botset.c */
#define TGM_TEXT_WELCOME "Welcome! Write here and we will answer you."
#define TGM_TEXT_NO_CREDIT "You have no credits left. Buy more to keep writing:"

#define TGM_TEXT_LANG 8   /* bytes of a language code with its NUL */
#define TGM_TEXT_MAX 4096 /* bytes of a bot's own text */

/* tgm_text - the catalog's text name in lang (NULL, or a language without it: English);
 * an unknown name is a bug */
const char *tgm_text(const char *name, const char *lang);

/* tgm_text_in - the catalog's text name in lang exactly, or NULL (no fallback) */
const char *tgm_text_in(const char *name, const char *lang);

/* tgm_text_nth - the n-th (from 0, in catalog order) of the catalog's texts of name,
 * its language in *lang; NULL past the last (every language the catalog has it in) */
const char *tgm_text_nth(const char *name, size_t n, const char **lang);

/* tgm_text_has - whether the catalog has the entry name in some language (every name
 * but a plural form English lacks, such as credits_few, is in English) */
bool tgm_text_has(const char *name);

/* tgm_text_is_catalog - text is the catalog's own text of name in some language (the
 * pointer tgm_text or tgm_text_bot gave), not a bot's */
bool tgm_text_is_catalog(const char *name, const char *text);

/* tgm_text_name - the i-th name of the catalog (in its order), NULL past the end */
const char *tgm_text_name(size_t i);

/* tgm_text_has_lang - whether the catalog speaks lang ("en", "ru") */
bool tgm_text_has_lang(const char *lang);

/* tgm_text_plural - CLDR's plural category of the integer n in lang: "one", "few" or
 * "many" in Russian; "one" (1 and -1) or "other" in English and any other language */
const char *tgm_text_plural(const char *lang, int64_t n);

/*
 * tgm_text_lang - the language a bot speaks to a user whose Telegram language_code is
 * user (may be NULL): its primary subtag ("pt-BR" -> "pt") when the catalog speaks it or
 * the bot has texts of its own in it (settings.texts), else the bot's setting language,
 * else English. Into out (TGM_TEXT_LANG bytes); returns out.
 */
const char *tgm_text_lang(yajl_val settings, const char *user, char *out);

/*
 * tgm_text_bot - name as a bot (settings, may be NULL) says it in lang: for lang, then
 * the bot's default language, then English, the first of the bot's own text
 * (settings.texts.<lang>.<name>; in the default language also the old settings welcome,
 * help, no_credit_text) and the catalog's. Borrowed from settings or static.
 */
const char *tgm_text_bot(yajl_val settings, const char *name, const char *lang);

/*
 * tgm_text_count_bot - a count as words: the entry name_<form> (form by the plural rule
 * of the language the text is found in, tgm_text_plural) with {n} filled, looked up as
 * tgm_text_bot does, into out (len bytes). Returns out. tgm_text_count: without a bot.
 */
char *tgm_text_count_bot(char *out, size_t len, yajl_val settings, const char *name, int64_t n,
			 const char *lang);
char *tgm_text_count(char *out, size_t len, const char *name, int64_t n, const char *lang);

/*
 * tgm_text_check - texts (settings.texts) is an object of at most 16 languages (2 or 3
 * lower-case letters), each an object of catalog names to strings of at most
 * TGM_TEXT_MAX bytes of UTF-8. On failure, false with one line in err.
 */
bool tgm_text_check(yajl_val texts, char *err, size_t errlen);

/*
 * tgm_text_fill - tmpl into out (len bytes, always terminated) with each {key}
 * replaced by its value from vars, pairs of key and value ended by NULL; a {key} not
 * in vars stays as it is. Returns out.
 */
char *tgm_text_fill(char *out, size_t len, const char *tmpl, const char *const vars[]);

#endif
