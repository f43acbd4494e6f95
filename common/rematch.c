/*
 * rematch.c - bounded regular expressions (see rematch.h): the limits checked before
 * regcomp (the size of the tree it would build, estimated by a small reading of the
 * pattern), a match on a text cut at a character boundary, and the pattern compiled
 * again after TGM_REMATCH_FED_MAX bytes (glibc's matcher keeps the states it meets).
 */
#include "common/rematch.h"
#include "common/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a group being read */
struct frame {
	long total, last; /* its parts so far, and those of its last atom */
	bool loose;       /* it holds a repetition or an empty alternative, at any depth */
	bool empty_alt;   /* the alternative being read is empty so far */
	bool last_loose;  /* its last atom is a loose group */
};

/* the pattern being read */
struct reader {
	struct frame st[TGM_REMATCH_PATTERN_MAX + 2];
	int depth;
	bool quantified; /* the last thing read was a repetition */
	char *err;
	size_t errlen;
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
 * moves *pp past it; -1: a bound over TGM_REMATCH_REPEAT_MAX. "{,n}" and "{,}" are
 * quantifiers too: glibc reads them as {0,n} and {0,} */
static long repeat(const char **pp)
{
	const char *p = *pp;
	long m, n;
	char *end;

	if (*p == '*' || *p == '?')
		return (*pp = p + 1, 1);
	if (*p == '+')
		return (*pp = p + 1, 2); /* a+ is a a* */
	if (*p != '{' || !(isdigit((unsigned char)p[1]) || p[1] == ','))
		return 0;
	m = strtol(p + 1, &end, 10); /* 0 at "{,": glibc reads {,n} as {0,n} */
	if (m > TGM_REMATCH_REPEAT_MAX)
		m = TGM_REMATCH_REPEAT_MAX + 1; /* refused below, if it is a bound at all */
	n = *end == ',' && isdigit((unsigned char)end[1]) ? strtol(end + 1, &end, 10)
	    : *end == ','                                 ? (end++, m + 1)
							  : m;
	if (*end != '}')
		return 0;
	*pp = end + 1;
	return m > TGM_REMATCH_REPEAT_MAX || n > TGM_REMATCH_REPEAT_MAX ? -1 : (n > 1 ? n : 1);
}

/* refuse - false, saying why */
static bool refuse(struct reader *rd, const char *why)
{
	snprintf(rd->err, rd->errlen, "%s", why);
	return false;
}

/* on_repeat - the last atom repeated k times (a+ is a a*: glibc copies it) */
static bool on_repeat(struct reader *rd, long k)
{
	struct frame *f = &rd->st[rd->depth];
	long grown = f->last * k + 1;

	if (rd->quantified)
		return refuse(rd, "a repetition cannot follow another (a+?, a**)");
	if (f->last_loose)
		return refuse(rd, "a repeated group cannot hold repetitions or empty alternatives"
				  " ((a+)+, (a|)*)");
	f->total += grown - f->last;
	f->last = grown;
	f->loose = true;
	return true;
}

/* on_open - a group begins */
static void on_open(struct reader *rd)
{
	rd->st[++rd->depth] = (struct frame){ 0, 0, false, true, false };
}

/* on_close - a group ends: it is the last atom of the one around it */
static void on_close(struct reader *rd)
{
	struct frame *child = &rd->st[rd->depth--], *f = &rd->st[rd->depth];

	f->last = child->total + 1;
	f->total += f->last;
	f->last_loose = child->loose || child->empty_alt;
	f->loose = f->loose || f->last_loose;
	f->empty_alt = false;
}

/* on_atom - a character, a bracket expression, an anchor, or | */
static void on_atom(struct reader *rd, char c)
{
	struct frame *f = &rd->st[rd->depth];

	if (c == '|' && f->empty_alt)
		f->loose = true;
	f->empty_alt = c == '|';
	f->last = c == '|' ? 0 : 1;
	f->total += 1; /* an alternation is a part too */
	f->last_loose = false;
}

/* step - read what is at *pp; false with err when it is refused */
static bool step(struct reader *rd, const char **pp)
{
	const char *p = *pp;
	long k = repeat(pp);

	if (*p == '\\' && p[1] >= '1' && p[1] <= '9') {
		snprintf(rd->err, rd->errlen, "back-references (\\%c) are not allowed", p[1]);
		return false;
	}
	if (k < 0) {
		snprintf(rd->err, rd->errlen, "a repetition {m,n} counts at most %d",
			 TGM_REMATCH_REPEAT_MAX);
		return false;
	}
	if (k > 0 && !on_repeat(rd, k))
		return false;
	if (k == 0 && *p == '(' && rd->depth <= TGM_REMATCH_PATTERN_MAX)
		on_open(rd);
	else if (k == 0 && *p == ')' && rd->depth > 0)
		on_close(rd);
	else if (k == 0)
		on_atom(rd, *p);
	if (k == 0)
		*pp = *p == '[' ? bracket_end(p) : p + (*p == '\\' && p[1] ? 2 : 1);
	rd->quantified = k > 0;
	return true;
}

/* size_ok - what glibc's regcomp would build from p stays small and quick: repetitions
 * copy their atom (a+ twice, a{m,n} n times, nested ones multiply) up to
 * TGM_REMATCH_NODES parts; no repetition right after another, and no repeated group
 * holding repetitions or empty alternatives (the closures of those grow exponentially);
 * no back-references \1..\9 */
static bool size_ok(const char *p, char *err, size_t errlen)
{
	struct reader rd;

	memset(&rd, 0, sizeof(rd));
	rd.err = err;
	rd.errlen = errlen;
	while (*p) {
		if (!step(&rd, &p))
			return false;
		if (rd.st[rd.depth].total > TGM_REMATCH_NODES) {
			snprintf(err, errlen,
				 "its repetitions make it too big (over %d parts once"
				 " expanded)",
				 TGM_REMATCH_NODES);
			return false;
		}
	}
	return true;
}

/* compile - regcomp with tgm's flags; false with err */
static bool compile(regex_t *re, const char *pattern, char *err, size_t errlen)
{
	char why[128];
	int rc = regcomp(re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);

	if (rc != 0) {
		regerror(rc, re, why, sizeof(why));
		regfree(re);
		snprintf(err, errlen, "not a valid extended regular expression: %s", why);
		return false;
	}
	return true;
}

bool tgm_rematch_compile(struct tgm_rematch *m, const char *pattern, char *err, size_t errlen)
{
	m->pattern = NULL;
	m->fed = 0;
	if (strlen(pattern) == 0 || strlen(pattern) > TGM_REMATCH_PATTERN_MAX) {
		snprintf(err, errlen, "a pattern has 1 to %d bytes", TGM_REMATCH_PATTERN_MAX);
		return false;
	}
	if (!size_ok(pattern, err, errlen) || !compile(&m->re, pattern, err, errlen))
		return false;
	m->pattern = tgm_xstrdup(pattern);
	return true;
}

/* renew - compile m again once it has matched TGM_REMATCH_FED_MAX bytes (its states
 * forgotten); false when that fails (memory: m then holds nothing) */
static bool renew(struct tgm_rematch *m)
{
	char err[160];

	if (m->fed < TGM_REMATCH_FED_MAX)
		return true;
	regfree(&m->re);
	m->fed = 0;
	if (compile(&m->re, m->pattern, err, sizeof(err)))
		return true;
	free(m->pattern);
	m->pattern = NULL;
	return false;
}

bool tgm_rematch_run(struct tgm_rematch *m, const char *text)
{
	char cut[TGM_REMATCH_TEXT_MAX + 1];
	size_t n = strlen(text);

	if (m->pattern == NULL || !renew(m))
		return false;
	if (n > TGM_REMATCH_TEXT_MAX) {
		n = TGM_REMATCH_TEXT_MAX;
		while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
			n--; /* not inside a UTF-8 character */
	}
	memcpy(cut, text, n);
	cut[n] = '\0';
	m->fed += n + 1;
	return regexec(&m->re, cut, 0, NULL, 0) == 0;
}

void tgm_rematch_free(struct tgm_rematch *m)
{
	if (m->pattern == NULL)
		return;
	regfree(&m->re);
	free(m->pattern);
	m->pattern = NULL;
}
