/*
 * test_stripe.c - the Stripe client's form encoding (brackets kept as stripe-node sends
 * them, everything else percent-encoded, docs/stripe.md section 5's wire example) and its
 * dotted-path reads.
 */
#include "common/json.h"
#include "common/stripe.h"
#include "tests/unit/unit.h"

#include <stdlib.h>

static void test_form(void)
{
	struct tgm_buf f;

	tgm_buf_init(&f);
	tgm_stripe_form_add(&f, "mode", "payment");
	tgm_stripe_form_add(&f, "line_items[0][price]", "price_credits100");
	tgm_stripe_form_addi(&f, "line_items[0][quantity]", 1);
	tgm_stripe_form_add(&f, "success_url", "https://bot.example/ok?cs={CHECKOUT_SESSION_ID}");
	tgm_stripe_form_add(&f, "metadata[tg_user_id]", "42");
	tgm_stripe_form_add(&f, "payment_intent_data[setup_future_usage]", "off_session");
	CHECK_STR(f.p,
		  "mode=payment&line_items[0][price]=price_credits100"
		  "&line_items[0][quantity]=1"
		  "&success_url=https%3A%2F%2Fbot.example%2Fok%3Fcs%3D%7BCHECKOUT_SESSION_ID%7D"
		  "&metadata[tg_user_id]=42&payment_intent_data[setup_future_usage]=off_session");
	tgm_buf_reset(&f);
	tgm_stripe_form_add(&f, "name", "Ada Lovelace & Co = 100% \xe2\x98\x95");
	tgm_stripe_form_add(&f, "metadata[a b]", "");
	tgm_stripe_form_add(&f, "description", NULL);
	tgm_stripe_form_addi(&f, "amount", -5);
	CHECK_STR(f.p, "name=Ada%20Lovelace%20%26%20Co%20%3D%20100%25%20%E2%98%95"
		       "&metadata[a%20b]=&description=&amount=-5");
	tgm_buf_free(&f);
}

static void test_get_str(void)
{
	const char *text = "{\"id\":\"pi_1\",\"error\":{\"code\":\"card_declined\"},\"n\":1}";
	char err[128];
	yajl_val v = tgm_json_parse(text, strlen(text), 1024, 8, err, sizeof(err));

	CHECK_STR(tgm_stripe_get_str(v, "id"), "pi_1");
	CHECK_STR(tgm_stripe_get_str(v, "error.code"), "card_declined");
	CHECK(tgm_stripe_get_str(v, "error.decline_code") == NULL);
	CHECK(tgm_stripe_get_str(v, "n") == NULL);
	CHECK(tgm_stripe_get_str(NULL, "id") == NULL);
	yajl_tree_free(v);
}

int main(void)
{
	test_form();
	test_get_str();
	return unit_done("stripe");
}
