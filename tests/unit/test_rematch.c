/*
 * test_rematch.c - bounded regular expressions: what is refused and why (length,
 * back-references, repetition bounds, syntax), case-insensitive matching, the cap
 * on the text matched, and the matcher's memory bounded over many texts.
 */
#include "common/rematch.h"
#include "tests/unit/unit.h"

#include <malloc.h>
#include <stdint.h>
#include <string.h>

static void refused(const char *pattern, const char *why)
{
	struct tgm_rematch re;
	char err[160] = "";

	CHECK(!tgm_rematch_compile(&re, pattern, err, sizeof(err)));
	CHECK_CONTAINS(err, why);
	CHECK(!tgm_rematch_run(&re, pattern)); /* a refused pattern matches nothing */
	tgm_rematch_free(&re);                 /* and freeing it is harmless */
}

static bool matches(const char *pattern, const char *text)
{
	struct tgm_rematch re;
	char err[160];
	bool m;

	if (!tgm_rematch_compile(&re, pattern, err, sizeof(err)))
		return false;
	m = tgm_rematch_run(&re, text);
	tgm_rematch_free(&re);
	return m;
}

static void test_refused(void)
{
	char long_pattern[TGM_REMATCH_PATTERN_MAX + 2];

	memset(long_pattern, 'a', sizeof(long_pattern) - 1);
	long_pattern[sizeof(long_pattern) - 1] = '\0';
	refused("", "1 to 200 bytes");
	refused(long_pattern, "1 to 200 bytes");
	refused("(a)\\1", "back-references");
	refused("a{21}", "at most 20");
	refused("a{1,99}", "at most 20");
	refused("a+++++++++++++", "cannot follow another");
	refused("a??", "cannot follow another");
	refused("(a{2}){3}*", "repeated group cannot hold");
	refused("(ab){3}*", "cannot follow another");
	refused("((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+", "repeated group cannot hold");
	refused("((a|b){20}){20}", "repeated group cannot hold");
	refused("(a|b|)+", "repeated group cannot hold");
	refused("(((a{,20}){,20}){,20}){,20}", "repeated group cannot hold"); /* {,n} is {0,n} */
	refused("((a{,}){,}){,}", "repeated group cannot hold");
	refused("a{,21}", "at most 20");
	refused("a{,}{,}", "cannot follow another");
	refused("((|a)x)*", "repeated group cannot hold");
	refused("(x(a?|b))+", "repeated group cannot hold");
	refused("(abcdefghij){20}(abcdefghij){20}(abcdefghij){20}(abcdefghij){20}"
		"(abcdefghij){20}",
		"too big");
	refused("([[:alpha:]]{20}){20}", "repeated group cannot hold");
	refused("(unclosed", "not a valid extended regular expression");
	refused("[z-a]", "not a valid extended regular expression");
}

static void test_match(void)
{
	char big[3000];

	CHECK(matches("^order +#?[0-9]{2,8}$", "ORDER #1234"));
	CHECK(!matches("^order +#?[0-9]{2,8}$", "order #1"));
	CHECK(matches("refund|money back", "I want my MONEY BACK"));
	CHECK(matches("a\\{1\\}", "a{1}")); /* escaped braces are no repetition */
	CHECK(matches("^xa{,2}y$", "XAAY"));
	CHECK(!matches("^xa{,2}y$", "xaaay"));
	CHECK(matches("a{2}b{2}c{2}d+e+f+g+h+", "aabbccddeeffgghh"));
	CHECK(matches("^[[:alpha:]]+ [0-9]{2,8}$", "Order 1234"));
	CHECK(matches("[]a]+", "]]a")); /* ] first in a bracket is itself */
	CHECK(matches("^(hi|hello|hey)+ there$", "HeyHi there"));
	CHECK(matches("(|a)b", "b")); /* an empty alternative is fine unrepeated */
	CHECK(matches("((ab|cd) ?x)", "cd x"));
	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = 'y';
	big[sizeof(big) - 1] = '\0';
	CHECK(matches("^x+", big));
	CHECK(!matches("y", big)); /* past the first TGM_REMATCH_TEXT_MAX bytes */
}

/* heap_used - the bytes of glibc's heap in use */
static size_t heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd; /* the arena's blocks in use, and mmapped ones */
}

/* random_letters - n - 1 random a's and b's and a NUL (xorshift32: rand_r's low bit
 * repeats too soon to meet new states) */
static void random_letters(char *text, size_t n, uint32_t *x)
{
	for (size_t j = 0; j + 1 < n; j++) {
		*x ^= *x << 13;
		*x ^= *x >> 17;
		*x ^= *x << 5;
		text[j] = *x & 1 ? 'a' : 'b';
	}
	text[n - 1] = '\0';
}

/* glibc's matcher keeps every state it meets: a pattern whose states multiply, fed
 * texts that keep meeting new ones, grew about 25 KB a text without end (52 MB after
 * 2,000); compiled again every TGM_REMATCH_FED_MAX bytes, it stays within a few MB,
 * and still matches (mallinfo2 reads glibc's heap: under ASan it reads nothing, and the
 * plain build's run is the one that counts) */
static void test_states_bounded(void)
{
	struct tgm_rematch re;
	char err[160], text[TGM_REMATCH_TEXT_MAX + 1];
	size_t before, grown = 0;
	uint32_t x = 2463534242u;
	int matched = 0;

	CHECK(tgm_rematch_compile(&re, "(a|b)*a(a|b){20}", err, sizeof(err)));
	before = heap_used();
	for (int i = 0; i < 2000; i++) {
		random_letters(text, sizeof(text), &x);
		matched += tgm_rematch_run(&re, text);
		if (heap_used() > before + grown)
			grown = heap_used() - before;
	}
	CHECK(matched == 2000); /* an 'a' 21 from the end of 1,024 random letters: always */
	CHECK(re.fed < TGM_REMATCH_FED_MAX);
	CHECK(grown < 8u * 1024 * 1024);
	CHECK(tgm_rematch_run(&re, "xxabbbbbbbbbbbbbbbbbbbb"));  /* a, then 20 letters */
	CHECK(!tgm_rematch_run(&re, "xxbbbbbbbbbbbbbbbbbbbbb")); /* no a */
	tgm_rematch_free(&re);
	tgm_rematch_free(&re); /* twice: harmless */
}

int main(void)
{
	test_refused();
	test_match();
	test_states_bounded();
	return unit_done("test_rematch");
}
