/*
 * util.h - small helpers every part uses: allocation that cannot fail silently,
 * files, hex, clocks, and string lists.
 *
 * The x-allocators abort with a "<2>" line on out-of-memory: a daemon that cannot
 * allocate a few bytes has no sane way on, and systemd restarts it.
 */
#ifndef TGM_UTIL_H
#define TGM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *tgm_xmalloc(size_t n);
void *tgm_xcalloc(size_t n, size_t size);
void *tgm_xrealloc(void *p, size_t n);
char *tgm_xstrdup(const char *s);
char *tgm_xstrndup(const char *s, size_t n);
char *tgm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tgm_read_file - whole file, NUL-terminated, at most max bytes; caller frees; NULL+errno */
char *tgm_read_file(const char *path, size_t max, size_t *len);

/* tgm_hex_encode - 2n characters and a NUL into out (size >= 2n+1) */
void tgm_hex_encode(const void *data, size_t n, char *out);
/* tgm_hex_decode - decode hex into out (at most max bytes); bytes written, -1 if invalid */
int tgm_hex_decode(const char *hex, unsigned char *out, size_t max);

/* clocks in milliseconds: wall clock (epoch) and monotonic */
int64_t tgm_now_ms(void);
int64_t tgm_mono_ms(void);

/*
 * tgm_words_next - iterate a list separated by spaces, tabs or commas.
 * Usage: const char *p = list; size_t n; while ((w = tgm_words_next(&p, &n))) ...
 * Returns a pointer to the word (not NUL-terminated) and its length in *n.
 */
const char *tgm_words_next(const char **p, size_t *n);

/* tgm_parse_int64 - a whole decimal string into *out; false on anything else */
bool tgm_parse_int64(const char *s, int64_t *out);
/* tgm_i64 - v as decimal text in out (n bytes: 24 hold any); a query parameter */
void tgm_i64(char *out, size_t n, int64_t v);

#endif
