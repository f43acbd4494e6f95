/*
 * utf8.h - UTF-8 text: strict validation and cutting on character boundaries, so that
 * a shortened text stays valid (PostgreSQL refuses invalid UTF-8, Telegram too).
 */
#ifndef TGM_UTF8_H
#define TGM_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* tgm_utf8_seq - the bytes of the one character of strict UTF-8 at s (of avail bytes
 * there; SIZE_MAX for a NUL-terminated string), 1 for ASCII; 0 when it is not valid or
 * cut short */
size_t tgm_utf8_seq(const char *s, size_t avail);
/* tgm_utf8_valid - strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF */
bool tgm_utf8_valid(const char *s);
/* tgm_utf8_truncate - cut s (in place) after max characters */
void tgm_utf8_truncate(char *s, size_t max);
/*
 * tgm_utf8_cut - cut s (in place) to its longest beginning of at most max bytes made of
 * whole characters: a character the limit would split goes whole, and so does an
 * incomplete or stray sequence (as a byte-cut snprintf leaves at the end). Returns
 * the new length.
 */
size_t tgm_utf8_cut(char *s, size_t max);
/* tgm_utf16_length - the length of UTF-8 text s in UTF-16 code units, as Telegram counts */
size_t tgm_utf16_length(const char *s);
/* tgm_utf16_truncate - cut s (in place) to at most max UTF-16 code units, on a character
 * boundary (a character needing a surrogate pair the limit would split goes whole) */
void tgm_utf16_truncate(char *s, size_t max);

#endif
