/*
 * render.c - a notice of billing_outbox (a name and its arguments, recorded by the SQL
 * functions in the transaction of the change it tells of) as a Telegram call: the
 * words come from the text catalog, money, counts and dates are made in say.c, and
 * keyboards here. A notice with no renderer of its own is the catalog's text of that
 * name, with its arguments filled in. Pure: unit-tested by test_billingd_say.c.
 */
#include "billingd/render.h"
#include "billingd/say.h"
#include "common/json.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

/* arg - the integer argument key of s, 0 when absent */
static int64_t arg(const struct bd_say *s, const char *key)
{
	int64_t v = 0;

	bd_say_int(s, key, &v);
	return v;
}

/* money - set key to the amount argument in the currency argument's units */
static void money(struct bd_say *s, const char *key, const char *amount)
{
	bd_say_money(s, key, arg(s, amount), tgm_json_get_str(s->args, "currency"));
}

/* pay_button - "Pay 5.00 USD" opening the url argument */
static void pay_button(struct bd_say *s)
{
	char text[256];

	money(s, "price", "price");
	bd_say_button(s, bd_say_fill(s, "button_pay", text, sizeof(text)), "url",
		      bd_say_get(s, "url"));
}

/* low_balance - bd_low_check: the balance crossed the bot's low mark */
static void low_balance(struct bd_say *s)
{
	bd_say_count(s, "credits", "credits", arg(s, "credits"));
	bd_say_text(s, "low_balance");
}

/* paid - bd_grant: the payment's product is granted */
static void paid(struct bd_say *s)
{
	bd_say_what(s, "what", arg(s, "credits"), arg(s, "pass_seconds"));
	bd_say_count(s, "balance", "credits", arg(s, "balance"));
	bd_say_text(s, "paid");
	if (arg(s, "pass_until") > 0) {
		bd_say_date(s, "until", arg(s, "pass_until"), true);
		bd_say_text(s, "paid_pass_until");
	}
}

/* menu_item - one product of the menu as a buy:<id> button */
static void menu_item(struct bd_say *s, yajl_val p)
{
	struct bd_say *item = bd_say_new(p);
	char text[512], data[32];

	bd_say_lang(item, s->settings, s->lang);
	money(item, "price", "price");
	if (tgm_json_get(p, "stars_price") && YAJL_IS_INTEGER(tgm_json_get(p, "stars_price"))) {
		bd_say_money(item, "stars", arg(item, "stars_price"), "XTR");
	}
	bd_say_fill(item, bd_say_get(item, "stars") ? "menu_button_stars" : "menu_button", text,
		    sizeof(text));
	snprintf(data, sizeof(data), "buy:%lld", (long long)arg(item, "id"));
	bd_say_button(s, text, "callback_data", data);
	bd_say_free(item);
}

/* menu - bd_menu: the products for sale, a button each */
static void menu(struct bd_say *s)
{
	yajl_val products = tgm_json_get(s->args, "products");
	size_t n = YAJL_IS_ARRAY(products) ? products->u.array.len : 0;

	bd_say_text(s, n ? "menu" : "menu_empty");
	for (size_t i = 0; i < n; i++)
		menu_item(s, products->u.array.values[i]);
}

/* history_line - one purchase of /history */
static void history_line(struct bd_say *s, yajl_val b, struct tgm_buf *out)
{
	struct bd_say *line = bd_say_new(b);
	bool pass = false;
	char text[512];

	bd_say_lang(line, s->settings, s->lang);
	tgm_json_get_bool(b, "pass", &pass);
	bd_say_date(line, "date", arg(line, "at"), false);
	if (pass)
		bd_say_set(line, "what", "%s", bd_say_word(s, "history_pass"));
	else
		bd_say_count(line, "what", "history_credits", arg(line, "credits"));
	bd_say_set(line, "amount", "%s", "");
	if (YAJL_IS_INTEGER(tgm_json_get(b, "amount"))) {
		money(line, "money", "amount");
		bd_say_set(line, "amount", "%s",
			   bd_say_fill(line, "history_amount", text, sizeof(text)));
	}
	tgm_buf_printf(out, "%s%s", out->len ? "\n" : "",
		       bd_say_fill(line, "history_line", text, sizeof(text)));
	bd_say_free(line);
}

/* history - bd_history: the last purchases and the spending */
static void history(struct bd_say *s)
{
	yajl_val buys = tgm_json_get(s->args, "buys");
	struct tgm_buf lines;
	char owed[256] = "";

	tgm_buf_init(&lines);
	for (size_t i = 0; YAJL_IS_ARRAY(buys) && i < buys->u.array.len; i++)
		history_line(s, buys->u.array.values[i], &lines);
	bd_say_set(s, "buys", "%s", lines.len ? lines.p : bd_say_word(s, "history_none"));
	tgm_buf_free(&lines);
	bd_say_count(s, "month", "credits", arg(s, "month"));
	bd_say_count(s, "balance", "credits", arg(s, "credits"));
	if (arg(s, "owed") > 0) {
		bd_say_count(s, "owed", "credits", arg(s, "owed"));
		bd_say_fill(s, "history_owed", owed, sizeof(owed));
	}
	bd_say_set(s, "owed", "%s", owed);
	bd_say_text(s, "history");
}

/* autorecharge_on - bd_autorecharge: on, and what it buys */
static void autorecharge_on(struct bd_say *s)
{
	bool card = false;
	char tail[256] = "";

	tgm_json_get_bool(s->args, "card", &card);
	bd_say_count(s, "below", "credits", arg(s, "below"));
	money(s, "price", "price");
	if (!card)
		bd_say_fill(s, "autorecharge_no_card", tail, sizeof(tail));
	bd_say_set(s, "card", "%s", tail);
	bd_say_text(s, "autorecharge_on");
}

/* autorecharge_no_package - there is no package of that many credits */
static void autorecharge_no_package(struct bd_say *s)
{
	bd_say_count(s, "package", "credits", arg(s, "credits"));
	bd_say_text(s, "autorecharge_no_package");
}

/* payment_failed - a PaymentIntent failed: Stripe's reason, or the catalog's */
static void payment_failed(struct bd_say *s)
{
	if (bd_say_get(s, "why") == NULL)
		bd_say_set(s, "why", "%s", bd_say_word(s, "payment_failed_why"));
	bd_say_text(s, "payment_failed");
}

/* dispute - the admin group's alert about a dispute */
static void dispute(struct bd_say *s)
{
	money(s, "amount", "amount");
	if (bd_say_get(s, "reason") == NULL)
		bd_say_set(s, "reason", "%s", bd_say_word(s, "dispute_reason_unknown"));
	if (bd_say_get(s, "payment") == NULL)
		bd_say_set(s, "payment", "?");
	bd_say_text(s, "dispute");
}

/* refund - credits taken back after a refund, and what is owed */
static void refund(struct bd_say *s)
{
	char owed[256] = "";

	money(s, "amount", "amount");
	bd_say_count(s, "taken", "credits", arg(s, "taken"));
	bd_say_count(s, "balance", "credits", arg(s, "balance"));
	if (arg(s, "owed") > 0)
		tgm_text_count_bot(owed, sizeof(owed), s->settings, "refund_owed", arg(s, "owed"),
				   *s->lang ? s->lang : NULL);
	bd_say_set(s, "owed", "%s", owed);
	bd_say_text(s, "refund");
}

/* offer - the Checkout link of a purchase, with a note (a catalog name) if any */
static void offer(struct bd_say *s)
{
	const char *note = bd_say_get(s, "note");
	char tail[1024] = "";

	bd_say_what(s, "what", arg(s, "credits"), arg(s, "pass_seconds"));
	money(s, "price", "price");
	if (note && tgm_text_has(note)) {
		bd_say_set(s, "note", "%s", bd_say_word(s, note));
		bd_say_fill(s, "offer_note", tail, sizeof(tail));
	}
	bd_say_set(s, "note", "%s", tail);
	bd_say_text(s, "offer");
	pay_button(s);
}

/* invoice - a Stars invoice for a product */
static void invoice(struct bd_say *s)
{
	bd_say_what(s, "what", arg(s, "credits"), arg(s, "pass_seconds"));
	s->invoice = true;
	s->product = arg(s, "id");
	s->stars = arg(s, "stars_price");
}

/* recharge_failed - auto-recharge could not charge: why (a catalog name, recharge_why_*,
 * its {code} or {status} among the arguments; words recorded before 035 are said as
 * they are), and a link when one was made */
static void recharge_failed(struct bd_say *s)
{
	const char *why = bd_say_get(s, "why");
	char text[512];

	if (why == NULL)
		why = "recharge_why_failed";
	if (strncmp(why, "recharge_why_", 13) == 0 && tgm_text_has(why))
		bd_say_set(s, "why", "%s", bd_say_fill(s, why, text, sizeof(text)));
	if (bd_say_get(s, "url") == NULL) {
		bd_say_text(s, "recharge_failed_no_link");
		return;
	}
	bd_say_text(s, "recharge_failed");
	pay_button(s);
}

/* pass_expiring - bd_pass_warn: the time pass ends in hours, at until */
static void pass_expiring(struct bd_say *s)
{
	bd_say_count(s, "left", "hours", arg(s, "hours"));
	bd_say_date(s, "until", arg(s, "until"), true);
	bd_say_text(s, "pass_expiring");
}

/* payment_confirmed - back from Checkout, already granted */
static void payment_confirmed(struct bd_say *s)
{
	bd_say_count(s, "balance", "credits", arg(s, "balance"));
	bd_say_text(s, "payment_confirmed");
}

/* portal - the Billing Portal's link */
static void portal(struct bd_say *s)
{
	bd_say_text(s, "portal");
	bd_say_button(s, bd_say_word(s, "button_portal"), "url", bd_say_get(s, "url"));
}

static const struct {
	const char *name;
	void (*render)(struct bd_say *s);
} renderers[] = {
	{ "paid", paid },
	{ "low_balance", low_balance },
	{ "menu", menu },
	{ "history", history },
	{ "autorecharge_on", autorecharge_on },
	{ "autorecharge_no_package", autorecharge_no_package },
	{ "payment_failed", payment_failed },
	{ "dispute", dispute },
	{ "refund", refund },
	{ "offer", offer },
	{ "invoice", invoice },
	{ "recharge_failed", recharge_failed },
	{ "payment_confirmed", payment_confirmed },
	{ "pass_expiring", pass_expiring },
	{ "portal", portal },
};

char *bd_render(const char *name, yajl_val args, int64_t chat, yajl_val settings, const char *lang,
		const char **method)
{
	struct bd_say *s;
	char *params;
	size_t i, n = sizeof(renderers) / sizeof(renderers[0]);

	for (i = 0; i < n && strcmp(renderers[i].name, name) != 0; i++)
		;
	if (i == n && !tgm_text_has(name))
		return NULL;
	s = bd_say_new(args);
	bd_say_lang(s, settings, lang);
	if (i < n)
		renderers[i].render(s);
	else
		bd_say_text(s, name);
	params = bd_say_params(s, chat, method);
	bd_say_free(s);
	return params;
}
