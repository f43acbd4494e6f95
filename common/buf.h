/*
 * buf.h - a growable byte buffer that is always NUL-terminated, for building SQL
 * parameters, JSON fragments and HTTP bodies. The buffer owns its bytes; free with
 * tgm_buf_free, or take them with tgm_buf_steal.
 */
#ifndef TGM_BUF_H
#define TGM_BUF_H

#include <stddef.h>

struct tgm_buf {
	char *p;
	size_t len, cap;
};

void tgm_buf_init(struct tgm_buf *b);
void tgm_buf_add(struct tgm_buf *b, const char *s, size_t n);
void tgm_buf_adds(struct tgm_buf *b, const char *s);
void tgm_buf_addc(struct tgm_buf *b, char c);
void tgm_buf_printf(struct tgm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tgm_buf_reset(struct tgm_buf *b);
/* tgm_buf_steal - the bytes, NUL-terminated, now the caller's; the buffer is empty */
char *tgm_buf_steal(struct tgm_buf *b);
void tgm_buf_free(struct tgm_buf *b);

/*
 * PostgreSQL array literals for unnest() parameters: tgm_pgarr_add appends one
 * element ("{" before the first, "," between), quoted and escaped; NULL is SQL NULL.
 * tgm_pgarr_end closes the array ("{}" when empty).
 */
void tgm_pgarr_add(struct tgm_buf *b, const char *value);
void tgm_pgarr_addn(struct tgm_buf *b, const char *value, size_t n);
void tgm_pgarr_end(struct tgm_buf *b);

#endif
