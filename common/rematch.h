/*
 * rematch.h - bounded regular expressions for auto-reply keywords: POSIX extended,
 * case-insensitive, no sub-matches. Bounded: a pattern has at most
 * TGM_REMATCH_PATTERN_MAX bytes, no back-references, bounds {m,n} of at most
 * TGM_REMATCH_REPEAT_MAX, no repetition right after another, no repeated group holding
 * a repetition or an empty alternative, and the tree glibc builds from it (which copies
 * a repeated atom: a+ is a a*) at most TGM_REMATCH_NODES parts; only the first
 * TGM_REMATCH_TEXT_MAX bytes of a text are matched. So no pattern can make a compile or
 * a match blow up (tests/fuzz/rematch.c; without back-references glibc does not
 * backtrack).
 */
#ifndef TGM_REMATCH_H
#define TGM_REMATCH_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define TGM_REMATCH_PATTERN_MAX 200
#define TGM_REMATCH_TEXT_MAX 1024
#define TGM_REMATCH_NODES 1000
#define TGM_REMATCH_REPEAT_MAX 20

/* tgm_rematch_compile - re from pattern; false with one line in err saying why
 * (re is then not to be freed) */
bool tgm_rematch_compile(regex_t *re, const char *pattern, char *err, size_t errlen);
/* tgm_rematch_run - re matches somewhere in the first TGM_REMATCH_TEXT_MAX bytes of text */
bool tgm_rematch_run(const regex_t *re, const char *text);

#endif
