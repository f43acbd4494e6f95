/*
 * multipart.c - libFuzzer target for common/multipart.c, the Bot API upload parser.
 * The input is a Content-Type line, a newline, then the body (as gatewayd hands them
 * over); every part found must lie inside the body.
 */
#include "common/multipart.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t tlen = nl ? (size_t)(nl - data) : size;
	char *type = malloc(tlen + 1);
	/* the body in its own allocation of exactly its size, so ASan sees any overrun */
	size_t blen = nl ? size - tlen - 1 : 0;
	char *body = malloc(blen ? blen : 1);
	struct tgm_mp_part parts[8];
	char boundary[71], err[128];
	int n;

	memcpy(type, data, tlen);
	type[tlen] = '\0';
	if (blen)
		memcpy(body, nl + 1, blen);
	(void)tgm_multipart_boundary(type, boundary);
	n = tgm_multipart_parse(type, body, blen, parts, 8, 4096, err, sizeof(err));
	for (int i = 0; i < n; i++) {
		if (parts[i].data < body || parts[i].data + parts[i].len > body + blen ||
		    parts[i].len > 4096 || parts[i].name[0] == '\0')
			abort();
	}
	free(type);
	free(body);
	return 0;
}
