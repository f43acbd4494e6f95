/*
 * utf8.c - libFuzzer target for common/utf8.c: validation, and cutting by characters
 * and by bytes, which must leave valid text valid and never grow it.
 */
#include "common/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	size_t max = size ? data[0] : 0;
	bool valid;
	size_t n;

	memcpy(s, data, size);
	s[size] = '\0';
	valid = tgm_utf8_valid(s);
	n = tgm_utf8_cut(s, max);
	if (n > max || n != strlen(s) || (valid && !tgm_utf8_valid(s)))
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	tgm_utf8_truncate(s, max);
	if (strlen(s) > size || (valid && !tgm_utf8_valid(s)))
		abort();
	free(s);
	return 0;
}
