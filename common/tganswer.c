/*
 * tganswer.c - a Bot API answer read in one pass, without a tree (see tganswer.h).
 *
 * A recursive descent over the text, at most TGM_JSON_MAX_DEPTH calls deep. Every value
 * is checked; the few that matter go to a slot on the way: the key that leads to a
 * value, and the slot of the object holding it, name the value's slot, and each slot
 * takes the first value that reaches it (the first of a repeated key, as tgm_json_get
 * finds it). Strings are decoded only for the description and for keys short enough
 * to be one of the names looked for.
 */
#include "common/tganswer.h"
#include "common/utf8.h"
#include "common/json.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* slot - where a value goes: nowhere (SKIP), or one of the answer's fields */
enum slot {
	SKIP,
	TOP, /* the document: an object of the fields below */
	OK,
	ERROR_CODE,
	DESCRIPTION,
	PARAMETERS, /* an object of RETRY_AFTER and MIGRATE */
	RETRY_AFTER,
	MIGRATE,
	RESULT, /* an integer, or an object of MESSAGE_ID */
	MESSAGE_ID,
};

struct scan {
	const char *start, *p, *end;
	struct tgm_tganswer *a;
	unsigned taken;  /* a bit per slot that has had its value */
	const char *why; /* the first error, or NULL */
};

/* out - where a string's decoded bytes go: buf (cap bytes, NUL kept), or nowhere */
struct out {
	char *buf;
	size_t cap, len;
	bool over; /* longer than cap - 1: cut */
};

static bool value(struct scan *s, enum slot slot, int depth);

/* fail - note the first error; false, for the callers to return */
static bool fail(struct scan *s, const char *why)
{
	if (s->why == NULL)
		s->why = why;
	return false;
}

/* ws - skip JSON's whitespace */
static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* put - n bytes to o, cut at its capacity */
static void put(struct out *o, const char *b, size_t n)
{
	if (o->buf == NULL)
		return;
	if (o->len + n >= o->cap) {
		o->over = true;
		return;
	}
	memcpy(o->buf + o->len, b, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* put_cp - code point cp to o as UTF-8 */
static void put_cp(struct out *o, unsigned cp)
{
	char b[4];

	if (cp < 0x80) {
		b[0] = (char)cp;
		put(o, b, 1);
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3F));
		put(o, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		put(o, b, 3);
	} else {
		b[0] = (char)(0xF0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		put(o, b, 4);
	}
}

/* hex4 - the 4 hex digits at p (end bounds them) into *cp; false when they are not */
static bool hex4(const char *p, const char *end, unsigned *cp)
{
	*cp = 0;
	if (end - p < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		*cp = *cp << 4 | d;
	}
	return true;
}

/* escape_u - s->p at the 'u' of \uXXXX (a surrogate pair takes two): the code point
 * to o, s->p past it */
static bool escape_u(struct scan *s, struct out *o)
{
	unsigned cp, lo;

	if (!hex4(s->p + 1, s->end, &cp))
		return fail(s, "a \\u escape without 4 hex digits");
	s->p += 5;
	if (cp == 0)
		return fail(s, "a \\u0000 escape");
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(s, "a lone surrogate escape");
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
		    !hex4(s->p + 2, s->end, &lo) || lo < 0xDC00 || lo > 0xDFFF)
			return fail(s, "a lone surrogate escape");
		s->p += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	put_cp(o, cp);
	return true;
}

/* escape - s->p at the character after a backslash: its meaning to o, s->p past it */
static bool escape(struct scan *s, struct out *o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k;

	if (s->p == s->end)
		return fail(s, "the text ends inside a string");
	if (*s->p == 'u')
		return escape_u(s, o);
	k = memchr(from, *s->p, sizeof(from) - 1);
	if (k == NULL)
		return fail(s, "an invalid escape in a string");
	put(o, &to[k - from], 1);
	s->p++;
	return true;
}

/* utf8_char - s->p at a byte >= 0x80: one whole character of strict UTF-8 (no overlong
 * form, no surrogate, nothing past U+10FFFF: common/utf8.c) to o, s->p past it */
static bool utf8_char(struct scan *s, struct out *o)
{
	size_t n = tgm_utf8_seq(s->p, (size_t)(s->end - s->p));

	if (n == 0)
		return fail(s, "a string is not valid UTF-8");
	put(o, s->p, n);
	s->p += n;
	return true;
}

/* string - s->p at a string's opening quote: it checked and decoded to o, s->p past
 * its closing quote */
static bool string(struct scan *s, struct out *o)
{
	s->p++;
	while (s->p < s->end) {
		const char *run = s->p;

		while (s->p < s->end && *s->p != '"' && *s->p != '\\' &&
		       (unsigned char)*s->p >= 0x20 && (unsigned char)*s->p < 0x80)
			s->p++;
		put(o, run, (size_t)(s->p - run));
		if (s->p == s->end)
			break;
		if (*s->p == '"') {
			s->p++;
			return true;
		}
		if (*s->p == '\\') {
			s->p++;
			if (!escape(s, o))
				return false;
		} else if ((unsigned char)*s->p < 0x20) {
			return fail(s, "a control character in a string");
		} else if (!utf8_char(s, o)) {
			return false;
		}
	}
	return fail(s, "the text ends inside a string");
}

/* raw_len - the bytes of the string whose opening quote s->p is at, up to its closing
 * quote (or the end of the text) */
static size_t raw_len(const struct scan *s)
{
	const char *p = s->p + 1;

	while (p < s->end && *p != '"')
		p += *p == '\\' ? 2 : 1;
	return (size_t)((p < s->end ? p : s->end) - s->p);
}

/* description - the description's string, decoded into a copy of its own */
static bool description(struct scan *s)
{
	struct out o = { .cap = raw_len(s) + 1 };

	o.buf = tgm_xmalloc(o.cap);
	o.buf[0] = '\0';
	if (!string(s, &o)) {
		free(o.buf);
		return false;
	}
	s->a->description = o.buf;
	return true;
}

/* digits - skip the digits at s->p; false when there is none */
static bool digits(struct scan *s)
{
	const char *from = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > from;
}

/* number - s->p at a number: checked, s->p past it; *v and *is_int set when it is an
 * integer yajl's tree keeps as one (no fraction, no exponent, within +-INT64_MAX) */
static bool number(struct scan *s, int64_t *v, bool *is_int)
{
	bool neg = false, over = false;
	uint64_t n = 0;

	if (*s->p == '-')
		neg = true, s->p++;
	if (s->p == s->end || *s->p < '0' || *s->p > '9')
		return fail(s, "a number without digits");
	if (*s->p == '0') {
		s->p++;
	} else {
		for (; s->p < s->end && *s->p >= '0' && *s->p <= '9'; s->p++) {
			unsigned d = (unsigned)(*s->p - '0');

			if (n > (uint64_t)(INT64_MAX - d) / 10)
				over = true;
			else
				n = n * 10 + d;
		}
	}
	*is_int = !over;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		*is_int = false;
		if (!digits(s))
			return fail(s, "a number without digits after its point");
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		*is_int = false;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!digits(s))
			return fail(s, "a number without digits in its exponent");
	}
	*v = neg ? -(int64_t)n : (int64_t)n;
	return true;
}

/* integer - an integer value into its slot, if it has one that takes integers */
static void integer(struct scan *s, enum slot slot, int64_t v)
{
	struct tgm_tganswer *a = s->a;

	if (slot == ERROR_CODE)
		a->has_error_code = true, a->error_code = v;
	else if (slot == RETRY_AFTER)
		a->has_retry_after = true, a->retry_after = v;
	else if (slot == MIGRATE)
		a->has_migrate_to_chat_id = true, a->migrate_to_chat_id = v;
	else if (slot == RESULT || slot == MESSAGE_ID)
		a->has_message_id = true, a->message_id = v;
}

/* key_slot - the slot of the value under key in an object of slot parent; SKIP when
 * none, or when that slot had its value from an earlier key */
static enum slot key_slot(struct scan *s, enum slot parent, const struct out *key)
{
	static const struct {
		enum slot parent, slot;
		const char *name;
	} keys[] = {
		{ TOP, OK, "ok" },
		{ TOP, ERROR_CODE, "error_code" },
		{ TOP, DESCRIPTION, "description" },
		{ TOP, PARAMETERS, "parameters" },
		{ TOP, RESULT, "result" },
		{ PARAMETERS, RETRY_AFTER, "retry_after" },
		{ PARAMETERS, MIGRATE, "migrate_to_chat_id" },
		{ RESULT, MESSAGE_ID, "message_id" },
	};

	if (key->over)
		return SKIP;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].parent != parent || strcmp(keys[i].name, key->buf) != 0)
			continue;
		if (s->taken & 1u << keys[i].slot)
			return SKIP;
		s->taken |= 1u << keys[i].slot;
		return keys[i].slot;
	}
	return SKIP;
}

/* member - s->p at a key: the key, its colon and its value */
static bool member(struct scan *s, enum slot slot, int depth)
{
	char name[24];
	struct out key = { .buf = slot == SKIP ? NULL : name, .cap = sizeof(name) };

	name[0] = '\0';
	if (s->p == s->end || *s->p != '"')
		return fail(s, "an object key that is not a string");
	if (!string(s, &key))
		return false;
	ws(s);
	if (s->p == s->end || *s->p != ':')
		return fail(s, "no colon after an object key");
	s->p++;
	return value(s, slot == SKIP ? SKIP : key_slot(s, slot, &key), depth);
}

/* object - s->p at '{': its members (their values to the slots under slot) */
static bool object(struct scan *s, enum slot slot, int depth)
{
	if (slot != TOP && slot != PARAMETERS && slot != RESULT)
		slot = SKIP;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return true;
	}
	for (;;) {
		if (!member(s, slot, depth))
			return false;
		ws(s);
		if (s->p == s->end)
			return fail(s, "the text ends inside an object");
		if (*s->p == '}') {
			s->p++;
			return true;
		}
		if (*s->p != ',')
			return fail(s, "no comma or '}' after an object member");
		s->p++;
		ws(s);
	}
}

/* array - s->p at '[': its elements, which go to no slot */
static bool array(struct scan *s, int depth)
{
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return true;
	}
	for (;;) {
		if (!value(s, SKIP, depth))
			return false;
		ws(s);
		if (s->p == s->end)
			return fail(s, "the text ends inside an array");
		if (*s->p == ']') {
			s->p++;
			return true;
		}
		if (*s->p != ',')
			return fail(s, "no comma or ']' after an array element");
		s->p++;
	}
}

/* literal - s->p at true, false or null (word): checked, s->p past it */
static bool literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return fail(s, "an invalid literal");
	s->p += n;
	return true;
}

/* scalar - s->p at a value that is no object, array or string */
static bool scalar(struct scan *s, enum slot slot)
{
	int64_t v;
	bool is_int;

	if (*s->p == 't' || *s->p == 'f') {
		bool yes = *s->p == 't';

		if (!literal(s, yes ? "true" : "false"))
			return false;
		if (slot == OK)
			s->a->has_ok = true, s->a->ok = yes;
		return true;
	}
	if (*s->p == 'n')
		return literal(s, "null");
	if (*s->p != '-' && (*s->p < '0' || *s->p > '9'))
		return fail(s, "an unexpected character");
	if (!number(s, &v, &is_int))
		return false;
	if (is_int)
		integer(s, slot, v);
	return true;
}

/* value - one value of any kind at depth (the containers around it) into slot */
static bool value(struct scan *s, enum slot slot, int depth)
{
	ws(s);
	if (s->p == s->end)
		return fail(s, "the text ends where a value should be");
	if (*s->p == '{' || *s->p == '[') {
		if (depth + 1 > TGM_JSON_MAX_DEPTH)
			return fail(s, "nested too deep");
		return *s->p == '{' ? object(s, slot, depth + 1) : array(s, depth + 1);
	}
	if (*s->p == '"') {
		struct out none = { 0 };

		return slot == DESCRIPTION ? description(s) : string(s, &none);
	}
	return scalar(s, slot);
}

bool tgm_tganswer_parse(struct tgm_tganswer *a, const char *text, size_t len, char *err,
			size_t errlen)
{
	struct scan s = { .start = text, .p = text, .end = text + len, .a = a };
	bool ok;

	memset(a, 0, sizeof(*a));
	ok = value(&s, TOP, 0);
	ws(&s);
	if (ok && s.p != s.end)
		ok = fail(&s, "text after the JSON value");
	if (!ok) {
		snprintf(err, errlen, "invalid JSON: %s at byte %zu", s.why,
			 (size_t)(s.p - s.start));
		tgm_tganswer_free(a);
	}
	return ok;
}

void tgm_tganswer_free(struct tgm_tganswer *a)
{
	free(a->description);
	memset(a, 0, sizeof(*a));
}
