/*
 * autorecharge.c - the arguments of /autorecharge: "off", or "on <credits> <below>"
 * (the package bought, and the balance under which it is bought), words in any case
 * and spaces anywhere; anything else is answered with the usage text. Pure:
 * unit-tested by test_billingd_say.c.
 */
#include "billingd/autorecharge.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DIGITS 12

/* word - the next word of *p (len bytes at the returned pointer), *p past it */
static const char *word(const char **p, size_t *len)
{
	const char *s = *p;

	while (isspace((unsigned char)*s))
		s++;
	*len = 0;
	while (s[*len] && !isspace((unsigned char)s[*len]))
		(*len)++;
	*p = s + *len;
	return s;
}

/* is - whether the word w (len bytes) is lit, in any case */
static bool is(const char *w, size_t len, const char *lit)
{
	return len == strlen(lit) && strncasecmp(w, lit, len) == 0;
}

/* number - the word w (len bytes) as 1 to MAX_DIGITS digits; false when it is not */
static bool number(const char *w, size_t len, int64_t *out)
{
	int64_t v = 0;

	if (len == 0 || len > MAX_DIGITS)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)w[i]))
			return false;
		v = v * 10 + (w[i] - '0');
	}
	*out = v;
	return true;
}

bool bd_autorecharge_parse(const char *args, struct bd_autorecharge *out)
{
	const char *p = args ? args : "", *w;
	size_t len;

	memset(out, 0, sizeof(*out));
	w = word(&p, &len);
	if (is(w, len, "off"))
		return true;
	if (!is(w, len, "on"))
		return false;
	w = word(&p, &len);
	if (!number(w, len, &out->credits))
		return false;
	w = word(&p, &len);
	if (!number(w, len, &out->below) || out->below == 0)
		return false;
	out->on = true;
	return true;
}
