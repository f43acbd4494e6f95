/*
 * rematch.h - bounded regular expressions for auto-reply keywords: POSIX extended,
 * case-insensitive, no sub-matches. Bounded: a pattern has at most
 * TGM_REMATCH_PATTERN_MAX bytes, no back-references, at most TGM_REMATCH_BOUNDS
 * bounded repetitions {m,n} each at most TGM_REMATCH_REPEAT_MAX, and only the first
 * TGM_REMATCH_TEXT_MAX bytes of a text are matched, so no pattern can make a match
 * blow up (glibc matches such patterns without backtracking).
 */
#ifndef TGM_REMATCH_H
#define TGM_REMATCH_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define TGM_REMATCH_PATTERN_MAX 200
#define TGM_REMATCH_TEXT_MAX 1024
#define TGM_REMATCH_BOUNDS 2
#define TGM_REMATCH_REPEAT_MAX 20

/* tgm_rematch_compile - re from pattern; false with one line in err saying why
 * (re is then not to be freed) */
bool tgm_rematch_compile(regex_t *re, const char *pattern, char *err, size_t errlen);
/* tgm_rematch_run - re matches somewhere in the first TGM_REMATCH_TEXT_MAX bytes of text */
bool tgm_rematch_run(const regex_t *re, const char *text);

#endif
