/*
 * rematch.c - bounded regular expressions (see rematch.h): the limits checked before
 * regcomp, and a match on a text cut at a character boundary.
 */
#include "common/rematch.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* bounds_ok - every {m,n} of p is at most TGM_REMATCH_REPEAT_MAX, and there are at most
 * TGM_REMATCH_BOUNDS of them; no \1..\9 */
static bool bounds_ok(const char *p, char *err, size_t errlen)
{
	int bounds = 0;

	for (; *p; p++) {
		if (*p == '\\' && p[1] >= '1' && p[1] <= '9') {
			snprintf(err, errlen, "back-references (\\%c) are not allowed", p[1]);
			return false;
		}
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p != '{' || !isdigit((unsigned char)p[1]))
			continue;
		if (++bounds > TGM_REMATCH_BOUNDS) {
			snprintf(err, errlen, "at most %d repetitions {m,n} are allowed",
				 TGM_REMATCH_BOUNDS);
			return false;
		}
		for (p++; *p && *p != '}'; p++)
			if (isdigit((unsigned char)*p) && strtol(p, NULL, 10) > TGM_REMATCH_REPEAT_MAX) {
				snprintf(err, errlen, "a repetition {m,n} counts at most %d",
					 TGM_REMATCH_REPEAT_MAX);
				return false;
			}
		if (*p == '\0')
			break;
	}
	return true;
}

bool tgm_rematch_compile(regex_t *re, const char *pattern, char *err, size_t errlen)
{
	char why[128];
	int rc;

	if (strlen(pattern) == 0 || strlen(pattern) > TGM_REMATCH_PATTERN_MAX) {
		snprintf(err, errlen, "a pattern has 1 to %d bytes", TGM_REMATCH_PATTERN_MAX);
		return false;
	}
	if (!bounds_ok(pattern, err, errlen))
		return false;
	rc = regcomp(re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, re, why, sizeof(why));
		regfree(re);
		snprintf(err, errlen, "not a valid extended regular expression: %s", why);
		return false;
	}
	return true;
}

bool tgm_rematch_run(const regex_t *re, const char *text)
{
	char cut[TGM_REMATCH_TEXT_MAX + 1];
	size_t n = strlen(text);

	if (n > TGM_REMATCH_TEXT_MAX) {
		n = TGM_REMATCH_TEXT_MAX;
		while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
			n--; /* not inside a UTF-8 character */
	}
	memcpy(cut, text, n);
	cut[n] = '\0';
	return regexec(re, cut, 0, NULL, 0) == 0;
}
