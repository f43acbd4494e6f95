/*
 * buf.c - growable NUL-terminated buffers and PostgreSQL array literals (buf.h).
 */
#include "common/buf.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tgm_buf_init(struct tgm_buf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
}

/* grow - make room for more bytes and the NUL after them, doubling the capacity (from 256) */
static void grow(struct tgm_buf *b, size_t more)
{
	size_t need = b->len + more + 1;

	if (need <= b->cap)
		return;
	b->cap = b->cap ? b->cap : 256;
	while (b->cap < need)
		b->cap *= 2;
	b->p = tgm_xrealloc(b->p, b->cap);
}

void tgm_buf_add(struct tgm_buf *b, const char *s, size_t n)
{
	grow(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void tgm_buf_adds(struct tgm_buf *b, const char *s)
{
	tgm_buf_add(b, s, strlen(s));
}

void tgm_buf_addc(struct tgm_buf *b, char c)
{
	tgm_buf_add(b, &c, 1);
}

void tgm_buf_printf(struct tgm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void tgm_buf_reset(struct tgm_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

char *tgm_buf_steal(struct tgm_buf *b)
{
	char *p = b->p ? b->p : tgm_xstrdup("");

	tgm_buf_init(b);
	return p;
}

void tgm_buf_free(struct tgm_buf *b)
{
	free(b->p);
	tgm_buf_init(b);
}

void tgm_pgarr_addn(struct tgm_buf *b, const char *value, size_t n)
{
	size_t from = 0;

	tgm_buf_addc(b, b->len == 0 ? '{' : ',');
	if (value == NULL) {
		tgm_buf_adds(b, "NULL");
		return;
	}
	grow(b, n + 2);
	tgm_buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) { /* copy runs, escape " and \ between them */
		if (value[i] != '"' && value[i] != '\\')
			continue;
		tgm_buf_add(b, value + from, i - from);
		tgm_buf_addc(b, '\\');
		from = i;
	}
	tgm_buf_add(b, value + from, n - from);
	tgm_buf_addc(b, '"');
}

void tgm_pgarr_add(struct tgm_buf *b, const char *value)
{
	tgm_pgarr_addn(b, value, value ? strlen(value) : 0);
}

void tgm_pgarr_end(struct tgm_buf *b)
{
	tgm_buf_adds(b, b->len == 0 ? "{}" : "}");
}
