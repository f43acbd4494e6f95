/*
 * rematch.c - libFuzzer target for common/rematch.c: any pattern (the input up to its
 * first NUL) either is refused or compiles and matches the rest of the input and a text
 * of the greatest length quickly (libFuzzer's -timeout catches a slow one).
 */
#include "common/rematch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char longest[TGM_REMATCH_TEXT_MAX * 2 + 1];
	char *s = malloc(size + 1), err[160];
	size_t plen;
	struct tgm_rematch re;

	if (longest[0] == '\0')
		memset(longest, 'a', sizeof(longest) - 1);
	memcpy(s, data, size);
	s[size] = '\0';
	plen = strlen(s);
	if (tgm_rematch_compile(&re, s, err, sizeof(err))) {
		(void)tgm_rematch_run(&re, plen < size ? s + plen + 1 : "");
		(void)tgm_rematch_run(&re, longest);
		tgm_rematch_free(&re);
	} else if (err[0] == '\0') {
		abort(); /* a refusal always says why */
	}
	free(s);
	return 0;
}
