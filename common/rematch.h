/*
 * rematch.h - bounded regular expressions for auto-reply keywords: POSIX extended,
 * case-insensitive, no sub-matches. Bounded: a pattern has at most
 * TGM_REMATCH_PATTERN_MAX bytes, no back-references, bounds {m,n} of at most
 * TGM_REMATCH_REPEAT_MAX, no repetition right after another, no repeated group holding
 * a repetition or an empty alternative, and the tree glibc builds from it (which copies
 * a repeated atom: a+ is a a*) at most TGM_REMATCH_NODES parts; only the first
 * TGM_REMATCH_TEXT_MAX bytes of a text are matched, and a pattern is compiled again
 * after TGM_REMATCH_FED_MAX bytes. So no pattern can make a compile or a match blow up,
 * at once or over time (tests/fuzz/rematch.c; without back-references glibc does not
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

/* TGM_REMATCH_FED_MAX - the bytes a compiled pattern matches before it is compiled
 * again. glibc's matcher keeps every state it meets until regfree, and a pattern such
 * as (a|b)*a(a|b){20} meets new ones on every text (about 25 KB a 1 KB text, without
 * end): compiling it again bounds that to a few MB a pattern */
#define TGM_REMATCH_FED_MAX (64 * 1024)

/* tgm_rematch - a compiled pattern */
struct tgm_rematch {
	regex_t re;
	char *pattern; /* NULL: nothing compiled (a refusal, or freed) */
	size_t fed;    /* bytes matched since it was compiled */
};

/* tgm_rematch_compile - m from pattern; false with one line in err saying why (m then
 * holds nothing, and freeing it is harmless) */
bool tgm_rematch_compile(struct tgm_rematch *m, const char *pattern, char *err, size_t errlen);
/* tgm_rematch_run - m matches somewhere in the first TGM_REMATCH_TEXT_MAX bytes of text;
 * false when m holds nothing */
bool tgm_rematch_run(struct tgm_rematch *m, const char *text);
/* tgm_rematch_free - free what m holds; it then holds nothing */
void tgm_rematch_free(struct tgm_rematch *m);

#endif
