/*
 * test_password.c - dashboard passwords: PBKDF2-HMAC-SHA256 against RFC 7914's vector,
 * round trip with a fresh salt each time, malformed stored forms refused, new-password
 * rules, generated passwords.
 */
#include "common/password.h"
#include "tests/unit/unit.h"

#include <stdlib.h>

static void test_vector(void)
{
	/* RFC 7914 section 11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1 (first 32 bytes) */
	const char *stored =
		"pbkdf2-sha256$1$c2FsdA==$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw=";

	CHECK(tgm_password_verify("passwd", stored));
	CHECK(!tgm_password_verify("passwe", stored));
	CHECK(!tgm_password_verify("", stored));
}

static void test_round_trip(void)
{
	char *a = tgm_password_hash("correct horse battery");
	char *b = tgm_password_hash("correct horse battery");

	CHECK(strncmp(a, "pbkdf2-sha256$210000$", 21) == 0);
	CHECK(strcmp(a, b) != 0); /* a salt of its own */
	CHECK(tgm_password_verify("correct horse battery", a));
	CHECK(tgm_password_verify("correct horse battery", b));
	CHECK(!tgm_password_verify("correct horse batterY", a));
	free(a);
	free(b);
}

static void test_malformed(void)
{
	const char *bad[] = {
		"",
		"plain",
		"pbkdf2-sha256$",
		"pbkdf2-sha256$0$c2FsdA==$AAAA",
		"pbkdf2-sha256$x$c2FsdA==$AAAA",
		"pbkdf2-sha256$1$c2FsdA==",
		"pbkdf2-sha256$1$!!$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw=",
		"pbkdf2-sha256$1$c2FsdA==$VawE",
		"pbkdf2-sha256$99999999999$c2FsdA==$AAAA",
		"sha1$1$c2FsdA==$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw=",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!tgm_password_verify("passwd", bad[i]));
}

static void test_rules(void)
{
	char gen[TGM_PASSWORD_GEN_LEN + 1], gen2[TGM_PASSWORD_GEN_LEN + 1];
	char *longer = malloc(600);

	CHECK(tgm_password_check("123456789") != NULL);
	CHECK(tgm_password_check("1234567890") == NULL);
	CHECK(tgm_password_check("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6") != NULL);
	memset(longer, 'a', 599);
	longer[599] = '\0';
	CHECK(tgm_password_check(longer) != NULL);
	free(longer);
	tgm_password_new(gen);
	tgm_password_new(gen2);
	CHECK(strlen(gen) == TGM_PASSWORD_GEN_LEN && strcmp(gen, gen2) != 0);
	CHECK(strspn(gen, "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") ==
	      TGM_PASSWORD_GEN_LEN);
	CHECK(tgm_password_check(gen) == NULL);
}

int main(void)
{
	test_vector();
	test_round_trip();
	test_malformed();
	test_rules();
	return unit_done("password");
}
