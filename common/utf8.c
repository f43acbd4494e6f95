/*
 * utf8.c - UTF-8 validation and cutting (see utf8.h).
 */
#include "common/utf8.h"

#include <stdint.h>
#include <string.h>

size_t tgm_utf8_seq(const char *s, size_t avail)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned c = p[0], n, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 1, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 2, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 3, cp = c & 0x07;
	else
		return 0;
	if (avail <= n)
		return 0;
	for (unsigned i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0; /* a NUL stops here too: nothing read past it */
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0; /* overlong, out of range, or a surrogate */
	return n + 1;
}

bool tgm_utf8_valid(const char *s)
{
	size_t n;

	for (; *s; s += n)
		if ((n = tgm_utf8_seq(s, SIZE_MAX)) == 0)
			return false;
	return true;
}

void tgm_utf8_truncate(char *s, size_t max)
{
	size_t chars = 0;

	for (char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xC0) != 0x80 && chars++ == max) {
			*p = '\0';
			return;
		}
	}
}

size_t tgm_utf16_length(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xC0) != 0x80)
			n++; /* a code point starts */
		if ((*p & 0xF8) == 0xF0)
			n++; /* 4-byte UTF-8: a surrogate pair in UTF-16 */
	}
	return n;
}

void tgm_utf16_truncate(char *s, size_t max)
{
	size_t n = 0;

	for (unsigned char *p = (unsigned char *)s; *p; p++) {
		if ((*p & 0xC0) == 0x80)
			continue;
		n += (*p & 0xF8) == 0xF0 ? 2 : 1;
		if (n > max) {
			*p = '\0';
			return;
		}
	}
}

/* seq_len - the bytes of the character that lead byte c starts; 0: c starts none */
static size_t seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c >= 0xE0 && c <= 0xEF)
		return 3;
	if (c >= 0xF0 && c <= 0xF4)
		return 4;
	return 0;
}

size_t tgm_utf8_cut(char *s, size_t max)
{
	size_t i = 0;

	while (s[i]) {
		size_t n = seq_len((unsigned char)s[i]), k;

		if (n == 0 || i + n > max)
			break;
		for (k = 1; k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80; k++)
			;
		if (k < n)
			break; /* incomplete */
		i += n;
	}
	s[i] = '\0';
	return i;
}
