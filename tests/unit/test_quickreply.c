/*
 * test_quickreply.c - a quick reply's variables filled for a user (gatewayd/quickreply.c):
 * each variable, missing values as empty, unknown braces kept, no recursion into what
 * a value holds.
 */
#include "gatewayd/inbox.h"
#include "tests/unit/unit.h"

#include <stdlib.h>

/* made - the template filled for Ada Lovelace (@ada) equals want */
static bool made(const char *tmpl, const char *first, const char *last, const char *user,
		 const char *want)
{
	char *got = gw_quickreply_render(tmpl, first, last, user);
	bool ok = strcmp(got, want) == 0;

	if (!ok)
		fprintf(stderr, "  %s -> %s, want %s\n", tmpl, got, want);
	free(got);
	return ok;
}

int main(void)
{
	CHECK(made("Hi {first_name}!", "Ada", "Lovelace", "ada", "Hi Ada!"));
	CHECK(made("{name} (@{username})", "Ada", "Lovelace", "ada", "Ada Lovelace (@ada)"));
	CHECK(made("{last_name}", "Ada", "Lovelace", "ada", "Lovelace"));
	CHECK(made("{name}", "Ada", NULL, NULL, "Ada"));
	CHECK(made("{name}|{last_name}|{username}", "", "", NULL, "||"));
	CHECK(made("{x} {first_name", "Ada", NULL, NULL, "{x} {first_name"));
	CHECK(made("{first_name}", "{username}", NULL, "ada", "{username}"));
	CHECK(made("", "Ada", NULL, NULL, ""));
	CHECK(made("{{first_name}}", "Ada", NULL, NULL, "{Ada}"));
	return unit_done("quickreply");
}
