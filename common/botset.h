/*
 * botset.h - the bot settings schema: one table of keys (type, range, default, help),
 * the check gatewayd applies to a settings object, and defaulted reads for daemons.
 *
 * Settings are a JSON object stored in bots.settings (jsonb); a key not stored takes
 * the table's default. Strings are limited in bytes and must be valid UTF-8.
 */
#ifndef TGM_BOTSET_H
#define TGM_BOTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

enum tgm_botset_type {
	TGM_BOTSET_INT,    /* an integer from min to max */
	TGM_BOTSET_BOOL,   /* true or false */
	TGM_BOTSET_STRING, /* UTF-8 text of at most max bytes */
	TGM_BOTSET_CHOICE, /* one of the words in choices */
	TGM_BOTSET_TEXTS,  /* the bot's own texts: {"ru": {"welcome": "..."}} (tgm_text_check) */
};

struct tgm_botset_key {
	const char *name;
	enum tgm_botset_type type;
	int64_t min, max;    /* INT: the range; STRING: max is the length in bytes */
	const char *def;     /* the default, as text: "30", "false", "auto", "Welcome!" */
	const char *choices; /* CHOICE: the allowed values, "a|b|c" */
	const char *help;    /* one line for people */
};

/* tgm_botset_keys - the whole table, in documentation order; *n gets its length */
const struct tgm_botset_key *tgm_botset_keys(size_t *n);

/*
 * tgm_botset_check - obj is an object of known keys, each of its type and in range.
 * On failure, false with one line in err naming the key and what is allowed, e.g.
 * "settings.updates must be one of auto, webhook, polling, off".
 */
bool tgm_botset_check(yajl_val obj, char *err, size_t errlen);

/*
 * Defaulted reads: the stored value when present and valid (as tgm_botset_check would
 * accept it), else the table's default. settings may be NULL. Asking for an unknown key,
 * or with the wrong function for its type, is a bug: it aborts with a message.
 * tgm_botset_str serves STRING and CHOICE keys; the text is borrowed from settings
 * (or static, for a default). The TEXTS key is read through common/text.h.
 */
int64_t tgm_botset_int(yajl_val settings, const char *key);
bool tgm_botset_bool(yajl_val settings, const char *key);
const char *tgm_botset_str(yajl_val settings, const char *key);

/*
 * tgm_botset_defaults_json - every setting with its default, as a JSON object of typed
 * values (built once, static). tgmctl migrate stores it in bot_setting_defaults so
 * SQL reads the same defaults.
 */
const char *tgm_botset_defaults_json(void);

#endif
