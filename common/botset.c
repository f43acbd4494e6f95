/*
 * botset.c - the bot settings schema: the table of keys, the check of a settings
 * object, and reads with defaults (see botset.h).
 */
#include "common/botset.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"
#include "common/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_INT TGM_BOTSET_INT
#define T_BOOL TGM_BOTSET_BOOL
#define T_STR TGM_BOTSET_STRING
#define T_CHOICE TGM_BOTSET_CHOICE
#define T_TEXTS TGM_BOTSET_TEXTS
#define MILLION 1000000
/* clang-format off */
#define COST(kind, def) \
	{ "cost_" kind, T_INT, 0, MILLION, def, NULL, \
	  "credits a user message of kind " kind " costs" }
/* clang-format on */

static const struct tgm_botset_key keys[] = {
	{ "per_second", T_INT, 1, 1000, "30", NULL, "messages per second for the whole bot" },
	{ "chat_per_second", T_INT, 1, 30, "1", NULL, "messages per second to one private chat" },
	{ "group_per_minute", T_INT, 1, 600, "20", NULL, "messages per minute to one group" },
	{ "paid_broadcast", T_BOOL, 0, 0, "false", NULL,
	  "allow_paid_broadcast (up to 1000 messages per second, paid in Stars)" },
	{ "updates", T_CHOICE, 0, 0, "auto", "auto|webhook|polling|off",
	  "how webhookd receives updates (auto: webhook when [webhookd] public_url is set,"
	  " else polling)" },
	{ "commands", T_STR, 0, 200, "start help balance buy billing history autorecharge", NULL,
	  "the bot commands that are on, separated by spaces" },
	{ "welcome", T_STR, 0, 4096, TGM_TEXT_WELCOME, NULL, "/start's text" },
	{ "help", T_STR, 0, 4096, "", NULL,
	  "/help's text (\"\": a list of the commands that are on)" },
	{ "free_credits", T_INT, 0, MILLION, "0", NULL, "credits a new user gets once on /start" },
	{ "low_balance", T_INT, 0, MILLION, "0", NULL,
	  "warn a user whose credits fall under this (0: never)" },
	{ "admin_chat_id", T_INT, -999999999999999, 0, "0", NULL,
	  "the forum supergroup where each user gets a topic (0: no conversations)" },
	{ "topic_name", T_STR, 0, 128, "{first_name} @{username} #{user_id}", NULL,
	  "a user's topic name; {first_name} {last_name} {username} {user_id}" },
	{ "charge_messages", T_BOOL, 0, 0, "false", NULL,
	  "user messages cost credits unless a time pass is active" },
	COST("text", "1"),
	COST("photo", "2"),
	COST("video", "3"),
	COST("voice", "2"),
	COST("document", "2"),
	COST("sticker", "1"),
	COST("other", "1"),
	{ "no_credit_text", T_STR, 0, 4096, TGM_TEXT_NO_CREDIT, NULL,
	  "the notice to a user without credits" },
	{ "tutorial", T_BOOL, 0, 0, "false", NULL,
	  "offer a new user a three-step tutorial on their first /start (docs/onboarding.md)" },
	{ "tutorial_bonus", T_INT, 0, MILLION, "0", NULL,
	  "credits a user gets once for finishing the tutorial" },
	{ "welcome_back_days", T_INT, 0, 3650, "30", NULL,
	  "a user who comes back after this many days away (or after blocking the bot) is"
	  " welcomed back on /start (0: never)" },
	{ "tier_by", T_CHOICE, 0, 0, "spend", "spend|messages",
	  "what makes a user's tier: credits spent, or messages sent (docs/tiers.md)" },
	{ "tier_regular", T_INT, 0, 1000000000, "20", NULL,
	  "spend (or messages) from which a user is Regular" },
	{ "tier_vip", T_INT, 0, 1000000000, "200", NULL,
	  "spend (or messages) from which a user is VIP" },
	{ "pass_warning_hours", T_INT, 0, 720, "24", NULL,
	  "warn a user this many hours before their time pass ends, once a pass (0: never)" },
	{ "balance_after_message", T_BOOL, 0, 0, "false", NULL,
	  "tell a user their balance after each paid message" },
	{ "language", T_CHOICE, 0, 0, "en", "en|ru",
	  "the bot's language, for users whose own the catalog does not speak (docs/texts.md)" },
	{ "texts", T_TEXTS, 0, 0, "{}", NULL,
	  "the bot's own texts by language and catalog name, {\"ru\": {\"welcome\": \"...\"}};"
	  " PUT /v1/bots/{id}/texts/{lang}/{name} sets one" },
	{ "flood_per_minute", T_INT, 0, 1000, "30", NULL,
	  "a user's messages a minute above which they are stored but neither relayed nor"
	  " answered, and the admins told (0: no limit)" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))
#define KEY_SHOWN 40 /* bytes of an unknown key quoted in an error */

const struct tgm_botset_key *tgm_botset_keys(size_t *n)
{
	*n = NKEYS;
	return keys;
}

/* find - the key called name; NULL when there is none */
static const struct tgm_botset_key *find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* in_choices - s is one of the words of "a|b|c" */
static bool in_choices(const char *choices, const char *s)
{
	size_t n = strlen(s);

	for (const char *p = choices;; p++) {
		if (strcspn(p, "|") == n && strncmp(p, s, n) == 0)
			return true;
		p = strchr(p, '|');
		if (p == NULL)
			return false;
	}
}

/* choices_list - "a|b|c" as "a, b, c" into out (n >= 1) */
static void choices_list(const char *choices, char *out, size_t n)
{
	size_t j = 0;

	for (const char *p = choices; *p && j + 3 < n; p++) {
		if (*p == '|') {
			out[j++] = ',';
			out[j++] = ' ';
		} else {
			out[j++] = *p;
		}
	}
	out[j] = '\0';
}

/* value_ok - v is a value k allows */
static bool value_ok(const struct tgm_botset_key *k, yajl_val v)
{
	switch (k->type) {
	case TGM_BOTSET_INT:
		return YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) >= k->min &&
		       YAJL_GET_INTEGER(v) <= k->max;
	case TGM_BOTSET_BOOL:
		return YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v);
	case TGM_BOTSET_STRING:
		return YAJL_IS_STRING(v) && strlen(v->u.string) <= (size_t)k->max &&
		       tgm_utf8_valid(v->u.string);
	case TGM_BOTSET_CHOICE:
		return YAJL_IS_STRING(v) && in_choices(k->choices, v->u.string);
	case TGM_BOTSET_TEXTS:
		return tgm_text_check(v, NULL, 0);
	}
	return false;
}

/* allowed - what k allows, for people: "an integer from 1 to 30", "one of a, b" */
static void allowed(const struct tgm_botset_key *k, char *out, size_t n)
{
	char list[128];

	switch (k->type) {
	case TGM_BOTSET_INT:
		snprintf(out, n, "an integer from %" PRId64 " to %" PRId64, k->min, k->max);
		break;
	case TGM_BOTSET_BOOL:
		snprintf(out, n, "true or false");
		break;
	case TGM_BOTSET_STRING:
		snprintf(out, n, "a string of at most %" PRId64 " bytes of UTF-8", k->max);
		break;
	case TGM_BOTSET_CHOICE:
		choices_list(k->choices, list, sizeof(list));
		snprintf(out, n, "one of %s", list);
		break;
	case TGM_BOTSET_TEXTS:
		snprintf(out, n, "an object of languages, each an object of texts");
		break;
	}
}

/* shown_len - at most KEY_SHOWN bytes of s, not cutting a UTF-8 character */
static int shown_len(const char *s)
{
	size_t n = strlen(s);

	if (n <= KEY_SHOWN)
		return (int)n;
	n = KEY_SHOWN;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return (int)n;
}

/* unknown_key - into err: name (shortened) is not a setting, and the list of those that are */
static void unknown_key(const char *name, char *err, size_t errlen)
{
	size_t len;

	snprintf(err, errlen, "settings.%.*s%s is not a setting; the settings are", shown_len(name),
		 name, strlen(name) > KEY_SHOWN ? "..." : "");
	for (size_t i = 0; i < NKEYS; i++) {
		len = strlen(err);
		snprintf(err + len, errlen - len, "%s %s", i ? "," : "", keys[i].name);
	}
}

bool tgm_botset_check(yajl_val obj, char *err, size_t errlen)
{
	char what[160];

	if (obj == NULL || !YAJL_IS_OBJECT(obj)) {
		snprintf(err, errlen, "settings must be an object");
		return false;
	}
	for (size_t i = 0; i < obj->u.object.len; i++) {
		const struct tgm_botset_key *k = find(obj->u.object.keys[i]);

		if (k == NULL) {
			unknown_key(obj->u.object.keys[i], err, errlen);
			return false;
		}
		if (k->type == TGM_BOTSET_TEXTS &&
		    !tgm_text_check(obj->u.object.values[i], err, errlen))
			return false;
		if (!value_ok(k, obj->u.object.values[i])) {
			allowed(k, what, sizeof(what));
			snprintf(err, errlen, "settings.%s must be %s", k->name, what);
			return false;
		}
	}
	return true;
}

/* lookup - the key of that type (a bug otherwise) and its valid stored value or NULL */
static yajl_val lookup(yajl_val settings, const char *key, enum tgm_botset_type t1,
		       enum tgm_botset_type t2, const struct tgm_botset_key **k)
{
	yajl_val v;

	*k = find(key);
	if (*k == NULL)
		TGM_BUG("bot setting %s is not in the table", key);
	if ((*k)->type != t1 && (*k)->type != t2)
		TGM_BUG("bot setting %s is read as another type", key);
	v = tgm_json_get(settings, key);
	return v && value_ok(*k, v) ? v : NULL;
}

int64_t tgm_botset_int(yajl_val settings, const char *key)
{
	const struct tgm_botset_key *k;
	yajl_val v = lookup(settings, key, TGM_BOTSET_INT, TGM_BOTSET_INT, &k);

	return v ? YAJL_GET_INTEGER(v) : strtoll(k->def, NULL, 10);
}

bool tgm_botset_bool(yajl_val settings, const char *key)
{
	const struct tgm_botset_key *k;
	yajl_val v = lookup(settings, key, TGM_BOTSET_BOOL, TGM_BOTSET_BOOL, &k);

	return v ? YAJL_IS_TRUE(v) : strcmp(k->def, "true") == 0;
}

const char *tgm_botset_str(yajl_val settings, const char *key)
{
	const struct tgm_botset_key *k;
	yajl_val v = lookup(settings, key, TGM_BOTSET_STRING, TGM_BOTSET_CHOICE, &k);

	return v ? v->u.string : k->def;
}

const char *tgm_botset_defaults_json(void)
{
	static char *text;
	yajl_gen g;

	if (text)
		return text;
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	for (size_t i = 0; i < NKEYS; i++) {
		tgm_jgen_key(g, keys[i].name);
		if (keys[i].type == T_INT)
			tgm_jgen_int(g, tgm_botset_int(NULL, keys[i].name));
		else if (keys[i].type == T_BOOL)
			yajl_gen_bool(g, tgm_botset_bool(NULL, keys[i].name));
		else if (keys[i].type == T_TEXTS)
			(yajl_gen_map_open(g), yajl_gen_map_close(g));
		else
			tgm_jgen_str(g, tgm_botset_str(NULL, keys[i].name));
	}
	yajl_gen_map_close(g);
	text = tgm_xstrdup(tgm_jgen_text(g, NULL));
	yajl_gen_free(g);
	return text;
}
