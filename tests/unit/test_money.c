/*
 * test_money.c - amounts for people: two-, zero- and three-decimal currencies, Stars,
 * negative amounts, the largest and smallest int64, and a short buffer.
 */
#include "common/money.h"
#include "tests/unit/unit.h"

#include <stdint.h>

static void test_decimals(void)
{
	CHECK(tgm_money_decimals("usd") == 2);
	CHECK(tgm_money_decimals("EUR") == 2);
	CHECK(tgm_money_decimals("jpy") == 0);
	CHECK(tgm_money_decimals("KRW") == 0);
	CHECK(tgm_money_decimals("kwd") == 3);
	CHECK(tgm_money_decimals("xtr") == 0);
	CHECK(tgm_money_decimals(NULL) == 2);
}

static void test_format(void)
{
	char out[48];

	CHECK_STR(tgm_money(out, sizeof(out), 500, "usd"), "5.00 USD");
	CHECK_STR(tgm_money(out, sizeof(out), 1999, "eur"), "19.99 EUR");
	CHECK_STR(tgm_money(out, sizeof(out), 5, "usd"), "0.05 USD");
	CHECK_STR(tgm_money(out, sizeof(out), 0, "usd"), "0.00 USD");
	CHECK_STR(tgm_money(out, sizeof(out), 1000, "jpy"), "1000 JPY");
	CHECK_STR(tgm_money(out, sizeof(out), 1500, "kwd"), "1.500 KWD");
	CHECK_STR(tgm_money(out, sizeof(out), 7, "BHD"), "0.007 BHD");
	CHECK_STR(tgm_money(out, sizeof(out), 50, "XTR"), "50 ⭐");
	CHECK_STR(tgm_money(out, sizeof(out), 250, NULL), "2.50");
}

static void test_negative_and_large(void)
{
	char out[48], tiny[6];

	CHECK_STR(tgm_money(out, sizeof(out), -500, "usd"), "-5.00 USD");
	CHECK_STR(tgm_money(out, sizeof(out), -5, "usd"), "-0.05 USD");
	CHECK_STR(tgm_money(out, sizeof(out), -1000, "jpy"), "-1000 JPY");
	CHECK_STR(tgm_money(out, sizeof(out), -1, "kwd"), "-0.001 KWD");
	CHECK_STR(tgm_money(out, sizeof(out), 123456789012345, "usd"), "1234567890123.45 USD");
	CHECK_STR(tgm_money(out, sizeof(out), INT64_MAX, "usd"), "92233720368547758.07 USD");
	CHECK_STR(tgm_money(out, sizeof(out), INT64_MIN, "usd"), "-92233720368547758.08 USD");
	CHECK_STR(tgm_money(out, sizeof(out), INT64_MIN, "kwd"), "-9223372036854775.808 KWD");
	CHECK_STR(tgm_money(tiny, sizeof(tiny), 123456, "usd"), "1234."); /* cut, terminated */
}

int main(void)
{
	test_decimals();
	test_format();
	test_negative_and_large();
	return unit_done("test_money");
}
