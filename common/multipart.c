/*
 * multipart.c - a bounded multipart/form-data parser (see multipart.h): the boundary
 * from the Content-Type, then each part's headers (Content-Disposition's name and
 * filename, Content-Type) and its bytes up to the next delimiter.
 */
#include "common/multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADERS_LEN 8192

/* param - the value of parameter key (quoted or not) in a header's text, into out */
static bool param(const char *text, size_t tlen, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i + klen + 1 <= tlen; i++) {
		size_t n = 0;
		const char *v;

		if ((i > 0 && text[i - 1] != ';' && text[i - 1] != ' ' && text[i - 1] != '\t') ||
		    strncasecmp(text + i, key, klen) != 0 || text[i + klen] != '=')
			continue;
		v = text + i + klen + 1;
		if (*v == '"') {
			v++;
			while (v + n < text + tlen && v[n] != '"')
				n++;
			if (v + n >= text + tlen)
				return false; /* unterminated quote */
		} else {
			while (v + n < text + tlen && v[n] != ';' && v[n] != ' ' && v[n] != '\t')
				n++;
		}
		if (n >= outlen)
			return false;
		memcpy(out, v, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

bool tgm_multipart_boundary(const char *content_type, char out[71])
{
	size_t n = strcspn(content_type, ";");

	while (n > 0 && content_type[n - 1] == ' ')
		n--;
	if (n != strlen("multipart/form-data") ||
	    strncasecmp(content_type, "multipart/form-data", n) != 0)
		return false;
	return param(content_type, strlen(content_type), "boundary", out, 71) && out[0] != '\0';
}

/* header_line - read one header of a part (name: value) into the part; false if bad */
static bool header_line(const char *line, size_t len, struct tgm_mp_part *p)
{
	const char *colon = memchr(line, ':', len);
	size_t nlen, off;

	if (colon == NULL)
		return false;
	nlen = (size_t)(colon - line);
	off = nlen + 1;
	while (off < len && (line[off] == ' ' || line[off] == '\t'))
		off++;
	if (nlen == 19 && strncasecmp(line, "Content-Disposition", 19) == 0) {
		if (len - off < 9 || strncasecmp(line + off, "form-data", 9) != 0)
			return false;
		if (!param(line + off, len - off, "name", p->name, sizeof(p->name)))
			return false;
		p->is_file = param(line + off, len - off, "filename", p->filename,
				   sizeof(p->filename));
		return true;
	}
	if (nlen == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
		if (len - off >= sizeof(p->content_type))
			return false;
		memcpy(p->content_type, line + off, len - off);
		p->content_type[len - off] = '\0';
	}
	return true; /* other headers are ignored */
}

/* headers - parse a part's header block (CRLF-separated, no final blank line) */
static bool headers(const char *h, size_t len, struct tgm_mp_part *p)
{
	memset(p, 0, sizeof(*p));
	while (len > 0) {
		const char *eol = memmem(h, len, "\r\n", 2);
		size_t n = eol ? (size_t)(eol - h) : len;

		if (!header_line(h, n, p))
			return false;
		if (eol == NULL)
			break;
		h += n + 2;
		len -= n + 2;
	}
	return p->name[0] != '\0';
}

/* fail - set err and return -1 */
static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "malformed multipart body: %s", what);
	return -1;
}

int tgm_multipart_parse(const char *content_type, const char *body, size_t len,
			struct tgm_mp_part *parts, int max_parts, size_t max_part, char *err,
			size_t errlen)
{
	char b[71], delim[76];
	size_t dlen;
	const char *p, *end = body + len;
	int n = 0;

	if (content_type == NULL || !tgm_multipart_boundary(content_type, b))
		return fail(err, errlen, "no boundary in Content-Type");
	dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", b);
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
		p = body + dlen - 2;
	else if ((p = memmem(body, len, delim, dlen)) != NULL)
		p += dlen;
	else
		return fail(err, errlen, "no opening boundary");
	for (;;) {
		const char *hend, *next;

		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return n; /* the closing delimiter; an epilogue is ignored */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return fail(err, errlen, "boundary not followed by CRLF");
		p += 2;
		hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (hend == NULL || hend - p > MAX_HEADERS_LEN)
			return fail(err, errlen, "part headers not terminated");
		if (n == max_parts)
			return fail(err, errlen, "too many parts");
		if (!headers(p, (size_t)(hend - p), &parts[n]))
			return fail(err, errlen, "bad part headers");
		p = hend + 4;
		next = memmem(p, (size_t)(end - p), delim, dlen);
		if (next == NULL)
			return fail(err, errlen, "part not terminated");
		if ((size_t)(next - p) > max_part)
			return fail(err, errlen, "part too large");
		parts[n].data = p;
		parts[n++].len = (size_t)(next - p);
		p = next + dlen;
	}
}
