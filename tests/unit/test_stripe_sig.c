/*
 * test_stripe_sig.c - tgm_stripe_verify against the vectors of docs/stripe.md section 2
 * (made by stripe-node 23.1.0 and by openssl dgst): the whsec_ prefix is part of the
 * key, every v1 is a candidate, v0 is ignored, one byte more of body fails, t is
 * required, the age is bounded both ways, and two secrets work during a rotation.
 */
#include "common/crypto.h"
#include "common/stripe_sig.h"
#include "common/util.h"
#include "tests/unit/unit.h"

#include <stdlib.h>

#define T0 1700000000
#define BODY1 "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"checkout.session.completed\"}"
#define SIG1 "670e223f19f12fb09ef0441261722546140dc296175e11939853a461c6642659"
#define SIG1N "3e9b3c2b34f93e536324d0bc3dbd7aa23d9f6316da297d207f67877ffa31139c"
/* vector 1's body under whsec_rotated_2 (openssl dgst and generateTestHeaderString) */
#define SIG1R "7fdfbcc9901fc3f18e73cd125032a8e57224688f3004b8173fda5c0725754809"
#define SIG2 "f79cea9f274f5f3aec2f2472991f3d3907f6ad274fd74ed8e7d65939df4e66e4"
#define SIG2N "02d2a99f39dde92901b2146942480b84cde078136e23305c296e83c43df6fa15"

/* vector 2's body: 393 bytes, 2-space indent, LF, no trailing newline */
/* clang-format off */
static const char body2[] =
	"{\n"
	"  \"id\": \"evt_test_1\",\n"
	"  \"object\": \"event\",\n"
	"  \"type\": \"checkout.session.completed\",\n"
	"  \"data\": {\n"
	"    \"object\": {\n"
	"      \"id\": \"cs_test_1\",\n"
	"      \"object\": \"checkout.session\",\n"
	"      \"client_reference_id\": \"tg_42\",\n"
	"      \"payment_status\": \"paid\",\n"
	"      \"mode\": \"payment\",\n"
	"      \"amount_total\": 500,\n"
	"      \"currency\": \"usd\",\n"
	"      \"metadata\": {\n"
	"        \"package\": \"credits_100\"\n"
	"      }\n"
	"    }\n"
	"  }\n"
	"}";
/* clang-format on */

static char err[256];

/* v1 - verify vector 1's body at now = T0 with the default tolerance */
static enum tgm_stripe_sig v1(const char *header, const char *secrets)
{
	err[0] = '\0';
	return tgm_stripe_verify(header, BODY1, strlen(BODY1), secrets, T0, 300, err, sizeof(err));
}

static void test_vector1(void)
{
	CHECK(v1("t=1700000000,v1=" SIG1, "whsec_test") == TGM_STRIPE_OK);
	CHECK_STR(err, "");
	/* the prefix is part of the key: the secret without it signs something else */
	CHECK(v1("t=1700000000,v1=" SIG1, "test") == TGM_STRIPE_NO_MATCH);
	CHECK_CONTAINS(err, "no v1 signature matches");
	CHECK(v1("t=1700000000,v1=" SIG1N, "whsec_test") == TGM_STRIPE_NO_MATCH);
	/* upper case hex is not what Stripe sends */
	CHECK(v1("t=1700000000,v1=670E223F19F12FB09EF0441261722546140DC296175E11939853A461C6642659",
		 "whsec_test") == TGM_STRIPE_NO_MATCH);
}

static void test_vector2(void)
{
	unsigned char d[TGM_SHA256_LEN];
	char hex[2 * TGM_SHA256_LEN + 1];
	size_t n = strlen(body2);

	CHECK(n == 393);
	tgm_sha256(body2, n, d);
	tgm_hex_encode(d, sizeof(d), hex);
	CHECK_STR(hex, "abfd19b35e42df2151579bd7db29ade16800e4180a23481b16b3fc43d1e8a0bc");
	CHECK(tgm_stripe_verify("t=1700000000,v1=" SIG2, body2, n, "whsec_test_secret_0123456789",
				T0, 300, err, sizeof(err)) == TGM_STRIPE_OK);
	CHECK(tgm_stripe_verify("t=1700000000,v1=" SIG2, body2, n, "test_secret_0123456789", T0,
				300, err, sizeof(err)) == TGM_STRIPE_NO_MATCH);
	CHECK(tgm_stripe_verify("t=1700000000,v1=" SIG2N, body2, n, "whsec_test_secret_0123456789",
				T0, 300, err, sizeof(err)) == TGM_STRIPE_NO_MATCH);
	/* a body cut short by one byte */
	CHECK(tgm_stripe_verify("t=1700000000,v1=" SIG2, body2, n - 1,
				"whsec_test_secret_0123456789", T0, 300, err,
				sizeof(err)) == TGM_STRIPE_NO_MATCH);
}

static void test_schemes(void)
{
	/* every v1 is a candidate; v0 is ignored */
	CHECK(v1("t=1700000000,v1=deadbeef,v1=" SIG1 ",v0=00", "whsec_test") == TGM_STRIPE_OK);
	CHECK(v1("t=1700000000,v1=" SIG1N ",v1=" SIG1, "whsec_test") == TGM_STRIPE_OK);
	CHECK(v1("v0=" SIG1 ",t=1700000000", "whsec_test") == TGM_STRIPE_NO_V1);
	CHECK_CONTAINS(err, "no v1 signature");
	/* the right signature under another scheme name does not count */
	CHECK(v1("t=1700000000,v2=" SIG1, "whsec_test") == TGM_STRIPE_NO_V1);
	CHECK(v1("t=1700000000,v0=" SIG1 ",v1=" SIG1N, "whsec_test") == TGM_STRIPE_NO_MATCH);
	/* items without '=' are skipped; order does not matter */
	CHECK(v1("junk,v1=" SIG1 ",t=1700000000", "whsec_test") == TGM_STRIPE_OK);
	/* a v1 with a prefix or a suffix is another value */
	CHECK(v1("t=1700000000,v1=" SIG1 "0", "whsec_test") == TGM_STRIPE_NO_MATCH);
	CHECK(v1("t=1700000000,v1= " SIG1, "whsec_test") == TGM_STRIPE_NO_MATCH);
}

static void test_timestamp(void)
{
	CHECK(v1("v1=" SIG1, "whsec_test") == TGM_STRIPE_NO_TIMESTAMP);
	CHECK_CONTAINS(err, "no timestamp");
	CHECK(v1("v1=abc", "whsec_test") == TGM_STRIPE_NO_TIMESTAMP);
	CHECK(v1("foo", "whsec_test") == TGM_STRIPE_NO_TIMESTAMP);
	CHECK(v1("t=,v1=" SIG1, "whsec_test") == TGM_STRIPE_NO_TIMESTAMP);
	CHECK(v1("t=17000x0000,v1=" SIG1, "whsec_test") == TGM_STRIPE_NO_TIMESTAMP);
	CHECK_CONTAINS(err, "not a number");
	CHECK(v1("t=-1700000000,v1=" SIG1, "whsec_test") == TGM_STRIPE_NO_TIMESTAMP);
	CHECK(v1("t=99999999999999999999,v1=" SIG1, "whsec_test") == TGM_STRIPE_NO_TIMESTAMP);
	/* two timestamps: which one was signed is ambiguous */
	CHECK(v1("t=1700000000,t=1700000001,v1=" SIG1, "whsec_test") == TGM_STRIPE_NO_TIMESTAMP);
	CHECK_CONTAINS(err, "more than one");
	/* the timestamp is signed: another t with the same v1 does not match */
	CHECK(v1("t=1700000001,v1=" SIG1, "whsec_test") == TGM_STRIPE_NO_MATCH);
}

static void test_body(void)
{
	const char *spaced = BODY1 " ";

	CHECK(tgm_stripe_verify("t=1700000000,v1=" SIG1, spaced, strlen(spaced), "whsec_test", T0,
				300, err, sizeof(err)) == TGM_STRIPE_NO_MATCH);
	CHECK(tgm_stripe_verify("t=1700000000,v1=" SIG1, "", 0, "whsec_test", T0, 300, err,
				sizeof(err)) == TGM_STRIPE_NO_MATCH);
	CHECK(v1(NULL, "whsec_test") == TGM_STRIPE_NO_HEADER);
	CHECK(v1("", "whsec_test") == TGM_STRIPE_NO_HEADER);
	CHECK_CONTAINS(err, "no Stripe-Signature header");
	CHECK(v1("t=1700000000,v1=" SIG1, "") == TGM_STRIPE_NO_SECRET);
	CHECK(v1("t=1700000000,v1=" SIG1, "   ") == TGM_STRIPE_NO_SECRET);
	CHECK(v1("t=1700000000,v1=" SIG1, NULL) == TGM_STRIPE_NO_SECRET);
}

/* age - verify vector 1 (signed at T0) as if now were T0 + delta */
static enum tgm_stripe_sig age(int64_t delta, int tolerance)
{
	err[0] = '\0';
	return tgm_stripe_verify("t=1700000000,v1=" SIG1, BODY1, strlen(BODY1), "whsec_test",
				 T0 + delta, tolerance, err, sizeof(err));
}

static void test_tolerance(void)
{
	CHECK(age(0, 300) == TGM_STRIPE_OK);
	CHECK(age(299, 300) == TGM_STRIPE_OK);
	CHECK(age(300, 300) == TGM_STRIPE_OK);
	CHECK(age(301, 300) == TGM_STRIPE_TOO_OLD);
	CHECK_CONTAINS(err, "301 s in the past");
	CHECK_CONTAINS(err, "tolerance of 300 s");
	CHECK(age(-299, 300) == TGM_STRIPE_OK);
	CHECK(age(-300, 300) == TGM_STRIPE_OK);
	CHECK(age(-301, 300) == TGM_STRIPE_TOO_NEW);
	CHECK_CONTAINS(err, "301 s in the future");
	CHECK(age(100000, 300) == TGM_STRIPE_TOO_OLD);
	CHECK(age(-100000, 300) == TGM_STRIPE_TOO_NEW); /* stripe-node would accept this */
	CHECK(age(3600, 7200) == TGM_STRIPE_OK);
	CHECK(age(301, 0) == TGM_STRIPE_TOO_OLD); /* 0 is not "no limit": the default */
	CHECK(age(300, 0) == TGM_STRIPE_OK);
	/* a forged header for a stale timestamp is told it does not match, not its age */
	CHECK(tgm_stripe_verify("t=1700000000,v1=" SIG1N, BODY1, strlen(BODY1), "whsec_test",
				T0 + 100000, 300, err, sizeof(err)) == TGM_STRIPE_NO_MATCH);
}

static void test_rotation(void)
{
	const char *both = "whsec_test whsec_rotated_2";

	/* Stripe sends one v1 per active secret */
	CHECK(v1("t=1700000000,v1=" SIG1 ",v1=" SIG1R, "whsec_test") == TGM_STRIPE_OK);
	CHECK(v1("t=1700000000,v1=" SIG1 ",v1=" SIG1R, "whsec_rotated_2") == TGM_STRIPE_OK);
	/* two secrets configured: each one's signature alone is accepted */
	CHECK(v1("t=1700000000,v1=" SIG1, both) == TGM_STRIPE_OK);
	CHECK(v1("t=1700000000,v1=" SIG1R, both) == TGM_STRIPE_OK);
	CHECK(v1("t=1700000000,v1=" SIG1R, "  whsec_other\twhsec_rotated_2 ") == TGM_STRIPE_OK);
	CHECK(v1("t=1700000000,v1=" SIG1R, "whsec_test") == TGM_STRIPE_NO_MATCH);
	CHECK(v1("t=1700000000,v1=" SIG1N, both) == TGM_STRIPE_NO_MATCH);
}

static void test_small_err(void)
{
	char small[8];

	CHECK(tgm_stripe_verify("v1=" SIG1, BODY1, strlen(BODY1), "whsec_test", T0, 300, small,
				sizeof(small)) == TGM_STRIPE_NO_TIMESTAMP);
	CHECK(strlen(small) == sizeof(small) - 1);
	CHECK(tgm_stripe_verify("v1=" SIG1, BODY1, strlen(BODY1), "whsec_test", T0, 300, NULL, 0) ==
	      TGM_STRIPE_NO_TIMESTAMP);
}

int main(void)
{
	test_vector1();
	test_vector2();
	test_schemes();
	test_timestamp();
	test_body();
	test_tolerance();
	test_rotation();
	test_small_err();
	return unit_done("test_stripe_sig");
}
