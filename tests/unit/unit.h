/*
 * unit.h - a tiny unit test harness: CHECK macros that count and report, and a
 * summary line "N passed, N failed" that tests/unit/run.sh adds up.
 */
#ifndef TGM_UNIT_H
#define TGM_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;

/* clang-format off */
#define CHECK(cond) do { \
	if (cond) unit_passed++; \
	else { unit_failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (a_ && b_ && strcmp(a_, b_) == 0) unit_passed++; \
	else { unit_failed++; fprintf(stderr, "FAIL %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
				      a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } \
} while (0)

#define CHECK_CONTAINS(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	if (h_ && strstr(h_, n_)) unit_passed++; \
	else { unit_failed++; fprintf(stderr, "FAIL %s:%d: \"%s\" does not contain \"%s\"\n", \
				      __FILE__, __LINE__, h_ ? h_ : "(null)", n_); } \
} while (0)
/* clang-format on */

/* unit_done - print the summary; the exit status of the test program */
static inline int unit_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
