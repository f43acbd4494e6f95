/*
 * money.c - amounts for people (see money.h): the decimals of a currency and the
 * formatting, exact in integers (no floating point), from INT64_MIN to INT64_MAX.
 */
#include "common/money.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Stripe's zero-decimal currencies, and the ones tgm always showed without decimals */
static const char *const zero[] = {
	"bif", "clp", "djf", "gnf", "huf", "isk", "jpy", "kmf", "krw", "mga", "pyg",
	"rwf", "twd", "ugx", "vnd", "vuv", "xaf", "xof", "xpf", "xtr", NULL,
};

/* Stripe's three-decimal currencies */
static const char *const three[] = { "bhd", "jod", "kwd", "omr", "tnd", NULL };

/* listed - whether currency is in list (case-insensitive) */
static int listed(const char *const *list, const char *currency)
{
	for (; *list; list++)
		if (strcasecmp(*list, currency) == 0)
			return 1;
	return 0;
}

int tgm_money_decimals(const char *currency)
{
	if (currency == NULL)
		return 2;
	if (listed(zero, currency))
		return 0;
	return listed(three, currency) ? 3 : 2;
}

/* upper - currency in capitals into out (at most 7 letters) */
static void upper(char *out, size_t len, const char *currency)
{
	size_t i = 0;

	for (; currency[i] && i + 1 < len; i++)
		out[i] = (char)(currency[i] >= 'a' && currency[i] <= 'z' ? currency[i] - 32
									 : currency[i]);
	out[i] = '\0';
}

char *tgm_money(char *out, size_t len, int64_t amount, const char *currency)
{
	int dec = tgm_money_decimals(currency);
	uint64_t mag = amount < 0 ? (uint64_t)0 - (uint64_t)amount : (uint64_t)amount;
	uint64_t unit = dec == 0 ? 1 : dec == 2 ? 100 : 1000;
	const char *sign = amount < 0 ? "-" : "";
	char code[8] = "", frac[8] = "";

	if (currency && strcasecmp(currency, "xtr") == 0)
		snprintf(code, sizeof(code), "⭐");
	else if (currency)
		upper(code, sizeof(code), currency);
	if (dec == 2)
		snprintf(frac, sizeof(frac), ".%02u", (unsigned)(mag % unit));
	else if (dec == 3)
		snprintf(frac, sizeof(frac), ".%03u", (unsigned)(mag % unit));
	snprintf(out, len, "%s%llu%s%s%s", sign, (unsigned long long)(mag / unit), frac,
		 *code ? " " : "", code);
	return out;
}
