/*
 * rematch.c - bounded regular expressions (see rematch.h): the limits checked before
 * regcomp (the size of the tree it would build, estimated by a small reading of the
 * pattern), and a match on a text cut at a character boundary.
 */
#include "common/rematch.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a group being read: its size so far, and the size of its last atom */
struct frame {
	long total, last;
};

/* bracket_end - past the bracket expression at p ("[...]", "[]...]", "[[:alpha:]]") */
static const char *bracket_end(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p && *p != ']'; p++)
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			const char *close = strchr(p + 2, p[1]);

			if (close == NULL || close[1] != ']')
				return p + strlen(p); /* regcomp refuses it */
			p = close + 1;
		}
	return *p ? p + 1 : p;
}

/* repeat - the copies a quantifier at *pp makes of its atom (0: not a quantifier);
 * moves *pp past it; -1: a bound over TGM_REMATCH_REPEAT_MAX */
static long repeat(const char **pp)
{
	const char *p = *pp;
	long m, n;
	char *end;

	if (*p == '*' || *p == '?')
		return (*pp = p + 1, 1);
	if (*p == '+')
		return (*pp = p + 1, 2); /* a+ is a a* */
	if (*p != '{' || !isdigit((unsigned char)p[1]))
		return 0;
	m = strtol(p + 1, &end, 10);
	if (m > TGM_REMATCH_REPEAT_MAX)
		m = TGM_REMATCH_REPEAT_MAX + 1; /* refused below, if it is a bound at all */
	n = *end == ',' && isdigit((unsigned char)end[1]) ? strtol(end + 1, &end, 10)
	    : *end == ',' ? (end++, m + 1) : m;
	if (*end != '}')
		return 0;
	*pp = end + 1;
	return m > TGM_REMATCH_REPEAT_MAX || n > TGM_REMATCH_REPEAT_MAX ? -1 : (n > 1 ? n : 1);
}

/* quantify - the last atom of f repeated k times */
static void quantify(struct frame *f, long k)
{
	long grown = f->last * k + 1;

	f->total += grown - f->last;
	f->last = grown;
}

/* size_ok - the parse tree regcomp builds stays under TGM_REMATCH_NODES: repetitions
 * copy their atom (a+ twice, a{m,n} n times, and nested ones multiply), which glibc
 * does at compile time; no repetition right after another (glibc's closures of those
 * grow fast); no back-references \1..\9 */
static bool size_ok(const char *p, char *err, size_t errlen)
{
	struct frame st[TGM_REMATCH_PATTERN_MAX + 1] = { { 0, 0 } };
	int depth = 0;
	long k;
	bool quantified = false; /* the last thing read was a repetition */

	while (*p) {
		if (*p == '\\' && p[1] >= '1' && p[1] <= '9') {
			snprintf(err, errlen, "back-references (\\%c) are not allowed", p[1]);
			return false;
		}
		if ((k = repeat(&p)) < 0) {
			snprintf(err, errlen, "a repetition {m,n} counts at most %d",
				 TGM_REMATCH_REPEAT_MAX);
			return false;
		} else if (k > 0 && quantified) {
			snprintf(err, errlen, "a repetition cannot follow another (a+?, a**)");
			return false;
		} else if (k > 0) {
			quantify(&st[depth], k);
		} else if (*p == '(' && depth < TGM_REMATCH_PATTERN_MAX) {
			st[++depth] = (struct frame){ 0, 0 };
			p++;
		} else if (*p == ')' && depth > 0) {
			st[depth - 1].last = st[depth].total + 1;
			st[depth - 1].total += st[depth].total + 1;
			depth--;
			p++;
		} else {
			const char *next = *p == '[' ? bracket_end(p)
					   : p + (*p == '\\' && p[1] ? 2 : 1);

			st[depth].last = *p == '|' ? 0 : 1;
			st[depth].total += st[depth].last;
			p = next;
		}
		quantified = k > 0;
		if (st[depth].total > TGM_REMATCH_NODES) {
			snprintf(err, errlen, "its repetitions make it too big (over %d parts once"
				 " expanded)", TGM_REMATCH_NODES);
			return false;
		}
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
	if (!size_ok(pattern, err, errlen))
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
