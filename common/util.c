/*
 * util.c - allocation, files, hex, clocks and word lists (see util.h).
 */
#include "common/util.h"
#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void *tgm_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		TGM_BUG("out of memory allocating %zu bytes", n);
	return p;
}

void *tgm_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		TGM_BUG("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *tgm_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		TGM_BUG("out of memory reallocating %zu bytes", n);
	return q;
}

char *tgm_xstrdup(const char *s)
{
	return tgm_xstrndup(s, strlen(s));
}

char *tgm_xstrndup(const char *s, size_t n)
{
	char *p = tgm_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *tgm_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		TGM_BUG("out of memory in asprintf");
	return s;
}

char *tgm_read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t have = 0, cap = 4096;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = tgm_xmalloc(cap);
	for (;;) {
		ssize_t n;

		if (have + 1 >= cap)
			buf = tgm_xrealloc(buf, cap *= 2);
		n = read(fd, buf + have, cap - have - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			break;
		if (n < 0 || (have += (size_t)n) > max) {
			int saved = n < 0 ? errno : EFBIG;

			free(buf);
			close(fd);
			errno = saved;
			return NULL;
		}
	}
	close(fd);
	buf[have] = '\0';
	if (len)
		*len = have;
	return buf;
}

void tgm_hex_encode(const void *data, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *d = data;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* hex_value - the value of the hex digit c (either case); -1 when it is not one */
static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int tgm_hex_decode(const char *hex, unsigned char *out, size_t max)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_value((unsigned char)hex[2 * i]),
		    lo = hex_value((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

int64_t tgm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tgm_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *tgm_words_next(const char **p, size_t *n)
{
	const char *w = *p + strspn(*p, " ,\t");

	if (*w == '\0')
		return NULL;
	*n = strcspn(w, " ,\t");
	*p = w + *n;
	return w;
}

bool tgm_parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0')
		return false;
	*out = v;
	return true;
}

void tgm_i64(char *out, size_t n, int64_t v)
{
	snprintf(out, n, "%lld", (long long)v);
}
