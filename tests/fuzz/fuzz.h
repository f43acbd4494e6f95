/*
 * fuzz.h - what every libFuzzer harness shares: the entry point's prototype, a
 * NUL-terminated copy of the input, splitting it at a newline, and a check that
 * aborts (a finding) when a property the code promises does not hold.
 */
#ifndef TGM_FUZZ_H
#define TGM_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_str - a malloc'd copy of the input with a NUL after it (caller frees) */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* fuzz_line - cut *rest (NUL-terminated) at its first newline: the line before it;
 * *rest moves past it, or to the end when there is none */
static inline char *fuzz_line(char **rest)
{
	char *line = *rest, *nl = strchr(line, '\n');

	if (nl) {
		*nl = '\0';
		*rest = nl + 1;
	} else {
		*rest = line + strlen(line);
	}
	return line;
}

/* FUZZ_ASSERT - a broken promise is a crash libFuzzer keeps the input of */
/* clang-format off */
#define FUZZ_ASSERT(cond)                                                           \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: FUZZ_ASSERT(%s) failed\n", __FILE__, \
				__LINE__, #cond);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)
/* clang-format on */

#endif
