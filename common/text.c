/*
 * text.c - the catalog of texts bots send to people (see text.h): one table of
 * entries, each a name, a language, the bot setting that overrides it (if any) and
 * the text. English is complete; add a language by adding its rows (docs/texts.md).
 */
#include "common/text.h"
#include "common/json.h"
#include "common/log.h"
#include "common/utf8.h"

#include <string.h>

struct entry {
	const char *name, *lang, *setting, *text;
};

static const struct entry entries[] = {
	/* /start, /help, /balance (webhookd/commands.c) */
	{ "welcome", "en", "welcome", TGM_TEXT_WELCOME },
	{ "free_credits", "en", NULL, "You got {credits} free credits." },
	{ "button_products", "en", NULL, "See products" },
	{ "help", "en", "help", "Commands:" },
	{ "unknown_command", "en", NULL, "Unknown command." },
	{ "help_start", "en", NULL, "start over" },
	{ "help_help", "en", NULL, "this list" },
	{ "help_balance", "en", NULL, "your credits and time pass" },
	{ "help_buy", "en", NULL, "buy credits or a time pass (/buy10 buys 10 credits)" },
	{ "help_billing", "en", NULL, "your payment details" },
	{ "help_history", "en", NULL, "your last purchases and spending" },
	{ "help_autorecharge", "en", NULL,
	  "top up automatically: /autorecharge on <credits> <below>, off" },
	{ "balance", "en", NULL, "Credits: {credits}" },
	{ "balance_bar", "en", NULL, "Credits: {credits}/{full} [{bar}] {percent}%" },
	{ "balance_pass", "en", NULL, "Time pass: active until {until}" },
	{ "balance_low_hint", "en", NULL, "⚠️ Your balance is low: /buy to top up." },
	/* charging user messages (webhookd/bridge.c) */
	{ "low_balance", "en", NULL,
	  "⚠️ Your balance is low: {credits} credits left. /buy to top up." },
	{ "no_credit", "en", "no_credit_text", TGM_TEXT_NO_CREDIT },
	{ "button_buy", "en", NULL, "Buy credits" },
	{ "gift_received", "en", NULL, "🎁 You received a gift. Balance: {credits} credits." },
	/* the admin group's topics (webhookd/bridge.c) */
	{ "gift_sent", "en", NULL, "🎁 Gift sent. Balance: {credits} credits." },
	{ "gift_failed", "en", NULL, "The gift failed." },
	{ "gift_how", "en", NULL, "Write /gift N in the topic to gift N credits." },
	{ "no_such_user", "en", NULL, "No such user." },
	{ "user_banned", "en", NULL, "🚫 User banned: their messages are no longer relayed." },
	{ "user_unbanned", "en", NULL, "✅ User unbanned." },
	{ "admin_help", "en", NULL, "Admin commands: /info, /ban, /unban, /gift N, /close, /reopen" },
	{ "topic_not_users", "en", NULL, "This topic is not this user's." },
	{ "not_delivered", "en", NULL, "⚠️ Not delivered: the user blocked the bot." },
	{ "user_blocked", "en", NULL, "⚠️ The user blocked the bot." },
	{ "user_unblocked", "en", NULL, "✅ The user unblocked the bot." },
	/* flood protection (webhookd/autoreply.c) */
	{ "flood_admin", "en", NULL,
	  "⚠️ {first_name} (#{user_id}) writes more than {rate} messages a minute: their"
	  " messages are stored but neither relayed nor answered until they slow down." },
	/* billingd's own answers (billingd/checkout.c, tgjob.c) */
	{ "portal_unavailable", "en", NULL,
	  "The billing portal is unavailable right now. Please try later." },
	{ "card_unavailable", "en", NULL, "Card payment is unavailable right now. Please try later." },
	{ "no_such_package", "en", NULL, "There is no such package: /buy lists what is for sale." },
	{ "cards_not_set_up", "en", NULL, "Card payments are not set up yet." },
	{ "billing_failed", "en", NULL, "Sorry, that did not work. Please try again later." },
};

#define NENTRIES (sizeof(entries) / sizeof(entries[0]))

/* find - the entry name in lang, or NULL */
static const struct entry *find(const char *name, const char *lang)
{
	for (size_t i = 0; i < NENTRIES; i++)
		if (strcmp(entries[i].name, name) == 0 && strcmp(entries[i].lang, lang) == 0)
			return &entries[i];
	return NULL;
}

/* find_any - the entry name in lang, else in English; unknown names are a bug */
static const struct entry *find_any(const char *name, const char *lang)
{
	const struct entry *e = lang ? find(name, lang) : NULL;

	if (e == NULL)
		e = find(name, "en");
	if (e == NULL)
		TGM_BUG("text %s is not in the catalog", name);
	return e;
}

const char *tgm_text(const char *name, const char *lang)
{
	return find_any(name, lang)->text;
}

const char *tgm_text_bot(yajl_val settings, const char *name, const char *lang)
{
	const struct entry *e = find_any(name, lang);
	const char *own = e->setting && settings ? tgm_json_get_str(settings, e->setting) : NULL;

	return own && *own ? own : e->text;
}

/* var - the value of the key at k (klen bytes) in vars, or NULL */
static const char *var(const char *const vars[], const char *k, size_t klen)
{
	for (size_t i = 0; vars && vars[i] && vars[i + 1]; i += 2)
		if (strlen(vars[i]) == klen && strncmp(vars[i], k, klen) == 0)
			return vars[i + 1];
	return NULL;
}

char *tgm_text_fill(char *out, size_t len, const char *tmpl, const char *const vars[])
{
	size_t used = 0;

	for (const char *p = tmpl; *p && used + 1 < len;) {
		const char *end = *p == '{' ? strchr(p + 1, '}') : NULL;
		const char *v = end ? var(vars, p + 1, (size_t)(end - p - 1)) : NULL;
		size_t n = v ? strlen(v) : 1;

		if (n > len - 1 - used)
			n = len - 1 - used;
		memcpy(out + used, v ? v : p, n);
		used += n;
		p = v ? end + 1 : p + 1;
	}
	if (len) {
		out[used] = '\0';
		tgm_utf8_cut(out, used); /* a value or the text cut short ends on a character */
	}
	return out;
}
