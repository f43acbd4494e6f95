/*
 * stripe_sig.c - Stripe webhook signatures (docs/stripe.md section 2): find t and the v1
 * values in the header, compute HMAC-SHA256 over "<t>.<raw body>" under each secret
 * of the list, compare it with every v1 in constant time, then check the timestamp's
 * distance from now in both directions. No I/O and no clock: the caller passes now.
 */
#include "common/stripe_sig.h"
#include "common/crypto.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEX_LEN (2 * TGM_SHA256_LEN)
#define MAX_T_DIGITS 15 /* enough for any Unix time; keeps the arithmetic far from overflow */

/* sig_item - one "key=value" item of the header, pointing into it */
struct sig_item {
	const char *key, *val;
	size_t klen, vlen;
};

/* sig_header - what the header says: the timestamp (as text and value), v1 count */
struct sig_header {
	const char *ttext;
	size_t tlen;
	int64_t t;
	int nt, nv1;
};

/* fail - declared first for the printf format check of its arguments */
static enum tgm_stripe_sig fail(enum tgm_stripe_sig code, char *err, size_t errlen, const char *fmt,
				...) __attribute__((format(printf, 4, 5)));

/* fail - write the reason into err (when there is room) and return code */
static enum tgm_stripe_sig fail(enum tgm_stripe_sig code, char *err, size_t errlen, const char *fmt,
				...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* next_item - the next comma-separated item of *p that has an '='; false at the end.
 * Items without '=' are skipped, as stripe-node does. */
static bool next_item(const char **p, struct sig_item *it)
{
	while (**p) {
		const char *s = *p;
		size_t n = strcspn(s, ",");
		const char *eq = memchr(s, '=', n);

		*p = s + n + (s[n] == ',');
		if (eq == NULL)
			continue;
		it->key = s;
		it->klen = (size_t)(eq - s);
		it->val = eq + 1;
		it->vlen = n - it->klen - 1;
		return true;
	}
	return false;
}

/* is_key - the item's key is exactly key */
static bool is_key(const struct sig_item *it, const char *key)
{
	return it->klen == strlen(key) && memcmp(it->key, key, it->klen) == 0;
}

/* parse_t - a plain decimal timestamp (digits only, no sign, no space) */
static bool parse_t(const char *s, size_t n, int64_t *t)
{
	int64_t v = 0;

	if (n == 0 || n > MAX_T_DIGITS)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*t = v;
	return true;
}

/* parse_header - fill h from the header: its t items and its v1 items */
static void parse_header(const char *header, struct sig_header *h)
{
	const char *p = header;
	struct sig_item it;

	memset(h, 0, sizeof(*h));
	while (next_item(&p, &it)) {
		if (is_key(&it, "v1")) {
			h->nv1++;
		} else if (is_key(&it, "t")) {
			h->nt++;
			h->ttext = it.val;
			h->tlen = it.vlen;
		}
	}
}

/* any_v1_matches - hex (the expected signature) equals some v1 of the header; every
 * v1 of the right length is compared in constant time, whatever matched before */
static bool any_v1_matches(const char *header, const char *hex)
{
	const char *p = header;
	struct sig_item it;
	bool match = false;

	while (next_item(&p, &it))
		if (is_key(&it, "v1") && it.vlen == HEX_LEN)
			match |= tgm_ct_equal(it.val, hex, HEX_LEN);
	return match;
}

/* signed_by_any - some secret of the list made one of the header's v1 over text */
static bool signed_by_any(const char *header, const char *text, size_t n, const char *secrets)
{
	unsigned char mac[TGM_SHA256_LEN];
	char hex[HEX_LEN + 1];
	const char *p = secrets, *w;
	size_t wlen;
	bool match = false;

	while ((w = tgm_words_next(&p, &wlen)) != NULL) {
		tgm_hmac_sha256(w, wlen, text, n, mac);
		tgm_hex_encode(mac, sizeof(mac), hex);
		match |= any_v1_matches(header, hex);
	}
	return match;
}

/* signed_text - "<t>.<body>" as Stripe signs it; caller frees */
static char *signed_text(const struct sig_header *h, const char *body, size_t len, size_t *n)
{
	char *s = tgm_xmalloc(h->tlen + 1 + len + 1);

	memcpy(s, h->ttext, h->tlen);
	s[h->tlen] = '.';
	if (len)
		memcpy(s + h->tlen + 1, body, len);
	*n = h->tlen + 1 + len;
	s[*n] = '\0';
	return s;
}

/* check_header - the header is there and names one timestamp and some v1 */
static enum tgm_stripe_sig check_header(const char *header, struct sig_header *h, char *err,
					size_t errlen)
{
	if (header == NULL || header[0] == '\0')
		return fail(TGM_STRIPE_NO_HEADER, err, errlen, "no Stripe-Signature header");
	parse_header(header, h);
	if (h->nt == 0)
		return fail(TGM_STRIPE_NO_TIMESTAMP, err, errlen,
			    "no timestamp (t=) in the Stripe-Signature header");
	if (h->nt > 1)
		return fail(TGM_STRIPE_NO_TIMESTAMP, err, errlen,
			    "more than one timestamp (t=) in the Stripe-Signature header");
	if (!parse_t(h->ttext, h->tlen, &h->t))
		return fail(TGM_STRIPE_NO_TIMESTAMP, err, errlen,
			    "the timestamp (t=) of the Stripe-Signature header is not a number");
	if (h->nv1 == 0)
		return fail(TGM_STRIPE_NO_V1, err, errlen,
			    "no v1 signature in the Stripe-Signature header");
	return TGM_STRIPE_OK;
}

/* check_age - |now - t| within tolerance */
static enum tgm_stripe_sig check_age(int64_t t, int64_t now, int tolerance, char *err,
				     size_t errlen)
{
	if (tolerance <= 0)
		tolerance = TGM_STRIPE_TOLERANCE_DEFAULT;
	if (now - t > tolerance)
		return fail(TGM_STRIPE_TOO_OLD, err, errlen,
			    "timestamp %lld is %lld s in the past, outside the tolerance of %d s",
			    (long long)t, (long long)(now - t), tolerance);
	if (t - now > tolerance)
		return fail(TGM_STRIPE_TOO_NEW, err, errlen,
			    "timestamp %lld is %lld s in the future, outside the tolerance of %d s",
			    (long long)t, (long long)(t - now), tolerance);
	return TGM_STRIPE_OK;
}

enum tgm_stripe_sig tgm_stripe_verify(const char *header, const char *body, size_t len,
				      const char *secrets, int64_t now, int tolerance, char *err,
				      size_t errlen)
{
	const char *p = secrets ? secrets : "";
	struct sig_header h;
	enum tgm_stripe_sig rc;
	size_t wlen, n;
	char *text;
	bool match;

	if (tgm_words_next(&p, &wlen) == NULL)
		return fail(TGM_STRIPE_NO_SECRET, err, errlen, "no Stripe webhook secret");
	rc = check_header(header, &h, err, errlen);
	if (rc != TGM_STRIPE_OK)
		return rc;
	text = signed_text(&h, body, len, &n);
	match = signed_by_any(header, text, n, secrets);
	free(text);
	if (!match)
		return fail(TGM_STRIPE_NO_MATCH, err, errlen,
			    "no v1 signature matches the payload (check the endpoint's secret)");
	return check_age(h.t, now, tolerance, err, errlen);
}
