/*
 * test_uservars.c - a text's variables filled for one person (common/uservars.c): each
 * variable, missing values as empty, {user_id} kept without an id, unknown braces kept,
 * no recursion into what a value holds.
 */
#include "common/uservars.h"
#include "tests/unit/unit.h"

#include <stdbool.h>
#include <stdlib.h>

/* made_for - the template filled for u equals want */
static bool made_for(const char *tmpl, const struct tgm_uservars *u, const char *want)
{
	char *got = tgm_uservars_fill(tmpl, u);
	bool ok = strcmp(got, want) == 0;

	if (!ok)
		fprintf(stderr, "  %s -> %s, want %s\n", tmpl, got, want);
	free(got);
	return ok;
}

/* made - the template filled for first, last and user (no bot name, no id) equals want */
static bool made(const char *tmpl, const char *first, const char *last, const char *user,
		 const char *want)
{
	return made_for(tmpl, &(struct tgm_uservars){ first, last, user, NULL, 0 }, want);
}

int main(void)
{
	const struct tgm_uservars ada = { "Ada", "Lovelace", "ada", "Shop", 42 };

	CHECK(made("Hi {first_name}!", "Ada", "Lovelace", "ada", "Hi Ada!"));
	CHECK(made("{name} (@{username})", "Ada", "Lovelace", "ada", "Ada Lovelace (@ada)"));
	CHECK(made("{last_name}", "Ada", "Lovelace", "ada", "Lovelace"));
	CHECK(made("{name}", "Ada", NULL, NULL, "Ada"));
	CHECK(made("{name}|{last_name}|{username}", "", "", NULL, "||"));
	CHECK(made("{x} {first_name", "Ada", NULL, NULL, "{x} {first_name"));
	CHECK(made("{first_name}", "{username}", NULL, "ada", "{username}"));
	CHECK(made("", "Ada", NULL, NULL, ""));
	CHECK(made("{{first_name}}", "Ada", NULL, NULL, "{Ada}"));
	CHECK(made("{user_id} {bot_name}.", NULL, NULL, NULL, "{user_id} ."));
	CHECK(made_for("{bot_name} for {name} #{user_id}", &ada, "Shop for Ada Lovelace #42"));
	CHECK(made("{name}", NULL, "Lovelace", NULL, "Lovelace"));
	return unit_done("uservars");
}
