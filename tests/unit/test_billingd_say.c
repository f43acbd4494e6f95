/*
 * test_billingd_say.c - billingd's words made in C: notices rendered from the catalog
 * (money, plurals, dates, keyboards, the Stars invoice, the fallback to a plain
 * catalog text, an unknown notice) and the arguments of /autorecharge, good and bad.
 */
#include "billingd/autorecharge.h"
#include "billingd/render.h"
#include "common/json.h"
#include "tests/unit/unit.h"

#include <stdlib.h>

/* said_in - the notice name with args (JSON) rendered to chat 42 in lang (NULL: the
 * bot's), as its params text */
static char *said_in(const char *lang, const char *name, const char *args, const char **method)
{
	char err[128];
	yajl_val v = tgm_json_parse(args, strlen(args), 1 << 20, 16, err, sizeof(err));
	char *p = bd_render(name, v, 42, NULL, lang, method);

	yajl_tree_free(v);
	return p;
}

/* said - said_in the bot's language */
static char *said(const char *name, const char *args, const char **method)
{
	return said_in(NULL, name, args, method);
}

/* check_text_in - the "text" of the notice rendered in lang is want */
static void check_text_in(const char *lang, const char *name, const char *args, const char *want)
{
	const char *method = NULL;
	char *p = said_in(lang, name, args, &method), err[128];
	yajl_val v = p ? tgm_json_parse(p, strlen(p), 1 << 20, 16, err, sizeof(err)) : NULL;

	CHECK_STR(method, "sendMessage");
	CHECK_STR(tgm_json_get_str(v, "text"), want);
	if (v)
		yajl_tree_free(v);
	free(p);
}

/* check_text - check_text_in the bot's language */
static void check_text(const char *name, const char *args, const char *want)
{
	check_text_in(NULL, name, args, want);
}

static void test_paid(void)
{
	check_text("paid", "{\"credits\": 10, \"pass_seconds\": 0, \"balance\": 12}",
		   "✅ Payment received: 10 credits.\nYour balance: 12 credits.");
	check_text("paid",
		   "{\"credits\": 1, \"pass_seconds\": 86400, \"balance\": 1,"
		   " \"pass_until\": 1764842400}",
		   "✅ Payment received: 1 credit + 1 day of unlimited access.\nYour balance:"
		   " 1 credit.\nUnlimited access until 2025-12-04 10:00 UTC.");
	check_text("paid",
		   "{\"credits\": 0, \"pass_seconds\": 7200, \"balance\": 0,"
		   " \"pass_until\": null}",
		   "✅ Payment received: 2 hours of unlimited access.\nYour balance: 0 credits.");
}

static void test_menu(void)
{
	const char *method;
	char *p = said(
		"menu",
		"{\"products\": [{\"id\": 7, \"label\": \"10 credits\", \"price\": 500,"
		" \"currency\": \"usd\", \"stars_price\": null}, {\"id\": 8, \"label\": \"Big\","
		" \"price\": 1500, \"currency\": \"kwd\", \"stars_price\": 100}]}",
		&method);

	CHECK_CONTAINS(p, "\"text\":\"Choose what to buy:\"");
	CHECK_CONTAINS(p, "[[{\"text\":\"10 credits – 5.00 USD\",\"callback_data\":\"buy:7\"}],"
			  "[{\"text\":\"Big – 1.500 KWD or 100 ⭐\",\"callback_data\":\"buy:8\"}]]");
	free(p);
	check_text("menu", "{\"products\": []}", "Nothing is for sale yet.");
}

static void test_history(void)
{
	check_text(
		"history",
		"{\"buys\": [{\"at\": 1764842400, \"pass\": false, \"credits\": 10,"
		" \"amount\": 500, \"currency\": \"usd\"}, {\"at\": 1764756000, \"pass\": true,"
		" \"credits\": 0, \"amount\": null}, {\"at\": 1764756000, \"pass\": false,"
		" \"credits\": 1, \"amount\": null}], \"month\": 3, \"spent\": 5, \"credits\": 7,"
		" \"owed\": 1}",
		"Your last purchases:\n2025-12-04  +10 credits  5.00 USD\n2025-12-03  time pass\n"
		"2025-12-03  +1 credit\n\nSpent: 3 credits in the last 30 days, 5 in all.\n"
		"Balance: 7 credits. Owed: 1 credit.");
	check_text("history",
		   "{\"buys\": [], \"month\": 0, \"spent\": 0, \"credits\": 0, \"owed\": 0}",
		   "Your last purchases:\nnone yet\n\nSpent: 0 credits in the last 30 days, 0 in"
		   " all.\nBalance: 0 credits.");
}

static void test_notices(void)
{
	check_text("refund",
		   "{\"amount\": -100, \"currency\": \"usd\", \"taken\": 2, \"owed\": 0,"
		   " \"balance\": 8}",
		   "↩️ A refund of -1.00 USD was made: 2 credits taken back."
		   " Your balance: 8 credits.");
	check_text("refund",
		   "{\"amount\": 500, \"currency\": \"eur\", \"taken\": 3, \"owed\": 1,"
		   " \"balance\": 0}",
		   "↩️ A refund of 5.00 EUR was made: 3 credits taken back."
		   " 1 credit was already spent and is owed. Your balance: 0 credits.");
	check_text("dispute",
		   "{\"amount\": 500, \"currency\": \"usd\", \"user\": 9, \"reason\": null,"
		   " \"payment\": null, \"dispute\": \"dp_1\"}",
		   "🚨 Dispute opened: 5.00 USD by user 9"
		   " (reason: unknown). Payment ?, dispute dp_1. Answer it in the Stripe Dashboard"
		   " before the deadline.");
	check_text("payment_failed", "{\"why\": null}",
		   "❌ Your payment failed: the card was declined. You can try again with /buy.");
	check_text(
		"autorecharge_on",
		"{\"below\": 5, \"credits\": 100, \"price\": 900,"
		" \"currency\": \"usd\", \"card\": false}",
		"Auto-recharge is on: when your balance"
		" falls under 5 credits, 100 are bought for 9.00 USD with your saved card. No card"
		" is saved yet: buy once with /buy100 and it is kept.");
	check_text("autorecharge_no_package", "{\"credits\": 1}",
		   "There is no package of 1 credit: /buy lists them.");
	check_text("card_unavailable", "{}",
		   "Card payment is unavailable right now. Please try later.");
	check_text(
		"offer",
		"{\"label\": \"Day pass\", \"credits\": 0, \"pass_seconds\": 86400,"
		" \"price\": 300, \"currency\": \"usd\", \"url\": \"https://x\","
		" \"note\": \"cards_not_set_up\"}",
		"Day pass: 1 day of unlimited access for 3.00 USD.\nCard payments are not set up yet.");
}

/* test_recharge_failed - the reason is a catalog name worded in the user's language */
static void test_recharge_failed(void)
{
	const char *declined =
		"{\"why\": \"recharge_why_declined\", \"code\": \"insufficient_funds\","
		" \"url\": null, \"price\": 500, \"currency\": \"usd\"}";

	check_text("recharge_failed", declined,
		   "⚠️ Auto-recharge could not charge your card:"
		   " your card was declined (insufficient_funds). Use /buy to top up.");
	check_text_in("ru", "recharge_failed", declined,
		      "⚠️ Автопополнение не"
		      " смогло списать деньги с карты: карта отклонена"
		      " (insufficient_funds). Пополните через /buy.");
	check_text_in("ru", "recharge_failed",
		      "{\"why\": \"recharge_why_confirm\", \"status\":"
		      " \"requires_action\", \"url\": \"https://x\", \"price\": 500, \"currency\":"
		      " \"usd\"}",
		      "⚠️ Автопополнение не смогло"
		      " списать деньги с карты: платёж требует"
		      " вашего подтверждения"
		      " (requires_action). Оплатите здесь:");
	/* words recorded before the reason was a name, and none at all */
	check_text(
		"recharge_failed", "{\"why\": \"no card is saved yet.\", \"url\": null}",
		"⚠️ Auto-recharge could not charge your card: no card is saved yet. Use /buy to"
		" top up.");
	check_text("recharge_failed", "{\"url\": null}",
		   "⚠️ Auto-recharge could not charge your"
		   " card: the payment could not be made. Use /buy to top up.");
}

static void test_invoice_and_unknown(void)
{
	const char *method = NULL;
	char *p = said("invoice",
		       "{\"id\": 8, \"label\": \"A label longer than thirty-two characters\","
		       " \"credits\": 50, \"pass_seconds\": 0, \"stars_price\": 100}",
		       &method);

	CHECK_STR(method, "sendInvoice");
	CHECK_CONTAINS(p, "\"title\":\"A label longer than thirty-two c\"");
	CHECK_CONTAINS(p, "\"description\":\"50 credits\",\"payload\":\"tgm:8:42\"");
	CHECK_CONTAINS(p, "\"prices\":[{\"label\":\"A label longer than thirty-two c\","
			  "\"amount\":100}]");
	free(p);
	CHECK(said("no_such_notice", "{}", &method) == NULL);
}

static void test_autorecharge(void)
{
	struct bd_autorecharge a;

	CHECK(bd_autorecharge_parse("on 100 10", &a) && a.on && a.credits == 100 && a.below == 10);
	CHECK(bd_autorecharge_parse("  ON\t25   5 and more", &a) && a.on && a.credits == 25 &&
	      a.below == 5);
	CHECK(bd_autorecharge_parse("off", &a) && !a.on);
	CHECK(bd_autorecharge_parse(" Off now", &a) && !a.on);
	CHECK(!bd_autorecharge_parse(NULL, &a));
	CHECK(!bd_autorecharge_parse("", &a));
	CHECK(!bd_autorecharge_parse("on", &a));
	CHECK(!bd_autorecharge_parse("on 100", &a));
	CHECK(!bd_autorecharge_parse("on 100 0", &a)); /* below must be > 0 */
	CHECK(!bd_autorecharge_parse("on -1 10", &a));
	CHECK(!bd_autorecharge_parse("on 10x 10", &a));
	CHECK(!bd_autorecharge_parse("on 1234567890123 10", &a)); /* 13 digits */
	CHECK(!bd_autorecharge_parse("onn 1 1", &a));
	CHECK(!bd_autorecharge_parse("offf", &a));
	CHECK(bd_autorecharge_parse("on 0 123456789012", &a) && a.credits == 0 &&
	      a.below == 123456789012);
}

int main(void)
{
	test_paid();
	test_menu();
	test_history();
	test_notices();
	test_invoice_and_unknown();
	test_autorecharge();
	test_recharge_failed();
	return unit_done("test_billingd_say");
}
