/*
 * test_crypto.c - SHA-256 and HMAC-SHA256 against published vectors (FIPS 180-2,
 * RFC 4231), constant-time comparison, base64, AES-256-GCM round trip and tamper
 * detection, random tokens, API key shape.
 */
#include "common/apikey.h"
#include "common/crypto.h"
#include "common/util.h"
#include "tests/unit/unit.h"

#include <stdlib.h>

static void hex_of(const unsigned char *d, size_t n, char *out)
{
	tgm_hex_encode(d, n, out);
}

static void test_sha256(void)
{
	unsigned char d[32];
	char hex[65];

	tgm_sha256("abc", 3, d);
	hex_of(d, 32, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	tgm_sha256("", 0, d);
	hex_of(d, 32, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hmac(void)
{
	unsigned char key[20], d[32];
	char hex[65];

	memset(key, 0x0b, sizeof(key)); /* RFC 4231 test case 1 */
	tgm_hmac_sha256(key, sizeof(key), "Hi There", 8, d);
	hex_of(d, 32, hex);
	CHECK_STR(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* RFC 4231 test case 2 */
	tgm_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
	hex_of(d, 32, hex);
	CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* Stripe's scheme: HMAC over "t.body" with the whole whsec_ string as key
	 * (value from Python's hmac module, an independent implementation) */
	tgm_hmac_sha256("whsec_test", 10, "1700000000.{}", 13, d);
	hex_of(d, 32, hex);
	CHECK_STR(hex, "35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91");
}

static void test_ct_compare(void)
{
	CHECK(tgm_ct_equal("abcdef", "abcdef", 6));
	CHECK(!tgm_ct_equal("abcdef", "abcdeg", 6));
	CHECK(!tgm_ct_equal("xbcdef", "abcdef", 6));
	CHECK(tgm_ct_streq("secret", "secret"));
	CHECK(!tgm_ct_streq("secret", "secret2"));
	CHECK(!tgm_ct_streq("", "x"));
	CHECK(tgm_ct_streq("", ""));
}

static void test_base64(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "",         "Zg==",     "Zm8=",    "Zm9v",
					   "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };

	for (int i = 0; i < 7; i++) { /* RFC 4648 section 10 */
		char *e = tgm_base64_encode(plain[i], strlen(plain[i]));
		size_t n = 99;
		unsigned char *d = tgm_base64_decode(enc[i], &n);

		CHECK_STR(e, enc[i]);
		CHECK(d != NULL && n == strlen(plain[i]) && memcmp(d, plain[i], n) == 0);
		free(e);
		free(d);
	}
	{
		size_t n;
		CHECK(tgm_base64_decode("abc", &n) == NULL);
		CHECK(tgm_base64_decode("ab!d", &n) == NULL);
	}
}

static void test_seal(void)
{
	unsigned char key[32], other[32];
	const char *token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
	char *sealed, *again, *opened, *bad;
	size_t len = 0;

	tgm_random_bytes(key, sizeof(key));
	memcpy(other, key, sizeof(key));
	other[0] ^= 1;
	sealed = tgm_seal(key, token, strlen(token), "bot:1:token");
	again = tgm_seal(key, token, strlen(token), "bot:1:token");
	CHECK(strncmp(sealed, "v1.", 3) == 0);
	CHECK(strstr(sealed, "AAHdq") == NULL);
	CHECK(strcmp(sealed, again) != 0); /* a fresh nonce each time */
	opened = tgm_open(key, sealed, "bot:1:token", &len);
	CHECK_STR(opened, token);
	CHECK(len == strlen(token));
	CHECK(tgm_open(other, sealed, "bot:1:token", NULL) == NULL); /* wrong key */
	CHECK(tgm_open(key, sealed, "bot:2:token", NULL) == NULL);   /* wrong place */
	bad = tgm_xstrdup(sealed);
	bad[10] = bad[10] == 'A' ? 'B' : 'A'; /* tampered */
	CHECK(tgm_open(key, bad, "bot:1:token", NULL) == NULL);
	CHECK(tgm_open(key, "v1.", "bot:1:token", NULL) == NULL);     /* truncated */
	CHECK(tgm_open(key, "v2.AAAA", "bot:1:token", NULL) == NULL); /* unknown format */
	free(sealed);
	free(again);
	free(opened);
	free(bad);
	sealed = tgm_seal(key, "", 0, NULL);
	opened = tgm_open(key, sealed, NULL, &len);
	CHECK_STR(opened, "");
	free(sealed);
	free(opened);
}

static void test_tokens(void)
{
	char a[33], b[33], key[TGM_APIKEY_LEN + 1], prefix[TGM_APIKEY_PREFIX_LEN + 1];
	char hash[65], hash2[65];

	tgm_random_token(a, 32, NULL);
	tgm_random_token(b, 32, NULL);
	CHECK(strlen(a) == 32 && strcmp(a, b) != 0);
	tgm_random_token(a, 32, "ab");
	CHECK(strspn(a, "ab") == 32);
	tgm_apikey_new(key, prefix, hash);
	CHECK(strlen(key) == TGM_APIKEY_LEN && strncmp(key, "tgmk_", 5) == 0);
	CHECK(strncmp(key, prefix, TGM_APIKEY_PREFIX_LEN) == 0);
	CHECK(tgm_apikey_hash(key, hash2) && strcmp(hash, hash2) == 0);
	CHECK(!tgm_apikey_hash("tgmk_short", hash2));
	key[20] = '!';
	CHECK(!tgm_apikey_hash(key, hash2));
}

int main(void)
{
	test_sha256();
	test_hmac();
	test_ct_compare();
	test_base64();
	test_seal();
	test_tokens();
	return unit_done("crypto");
}
