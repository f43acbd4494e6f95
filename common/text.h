/*
 * text.h - every text a bot sends to a person: one catalog of entries keyed by a name
 * and a language (English is complete; a language without the entry falls back to
 * English), the per-bot overrides that a bot's settings hold (welcome, help,
 * no_credit_text), and {name} placeholders filled by the caller. Texts are static:
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

/* tgm_text - the catalog's text name in lang (NULL: English); an unknown name is a bug */
const char *tgm_text(const char *name, const char *lang);

/* tgm_text_has - whether the catalog has the entry name (in English, so in every language) */
bool tgm_text_has(const char *name);

/*
 * tgm_text_count - a count as words: the entry name_one or name_other (English's plural
 * rule for now, whatever lang: one for 1 and -1) with {n} filled, into out (len bytes).
 * Returns out.
 */
char *tgm_text_count(char *out, size_t len, const char *name, int64_t n, const char *lang);

/*
 * tgm_text_bot - name as a bot says it: the bot's own text when its settings (may be
 * NULL) hold a non-empty value for the entry's setting, else tgm_text(name, lang).
 * Borrowed from settings or static.
 */
const char *tgm_text_bot(yajl_val settings, const char *name, const char *lang);

/*
 * tgm_text_fill - tmpl into out (len bytes, always terminated) with each {key}
 * replaced by its value from vars, pairs of key and value ended by NULL; a {key} not
 * in vars stays as it is. Returns out.
 */
char *tgm_text_fill(char *out, size_t len, const char *tmpl, const char *const vars[]);

#endif
