/*
 * money.h - an amount in a currency's minor units as people read it: 500 "usd" is
 * "5.00 USD", 1000 "jpy" is "1000 JPY", 1500 "kwd" is "1.500 KWD", Telegram Stars
 * (XTR) are "50 ⭐". The decimals follow Stripe's currency list: zero-decimal and
 * three-decimal currencies are named, every other has two.
 */
#ifndef TGM_MONEY_H
#define TGM_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* tgm_money_decimals - how many minor-unit digits currency (any case) has */
int tgm_money_decimals(const char *currency);

/*
 * tgm_money - amount (minor units, may be negative) of currency into out (len bytes,
 * always terminated; 40 bytes hold any amount). A NULL currency prints the bare
 * number with two decimals. Returns out.
 */
char *tgm_money(char *out, size_t len, int64_t amount, const char *currency);

#endif
