/*
 * test_rematch.c - bounded regular expressions: what is refused and why (length,
 * back-references, repetition bounds, syntax), case-insensitive matching, and the cap
 * on the text matched.
 */
#include "common/rematch.h"
#include "tests/unit/unit.h"

#include <string.h>

static void refused(const char *pattern, const char *why)
{
	regex_t re;
	char err[160] = "";

	CHECK(!tgm_rematch_compile(&re, pattern, err, sizeof(err)));
	CHECK_CONTAINS(err, why);
}

static bool matches(const char *pattern, const char *text)
{
	regex_t re;
	char err[160];
	bool m;

	if (!tgm_rematch_compile(&re, pattern, err, sizeof(err)))
		return false;
	m = tgm_rematch_run(&re, text);
	regfree(&re);
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

int main(void)
{
	test_refused();
	test_match();
	return unit_done("test_rematch");
}
