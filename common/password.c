/*
 * password.c - hash and verify dashboard passwords with PBKDF2-HMAC-SHA256.
 */
#include "common/password.h"
#include "common/crypto.h"
#include "common/json.h"
#include "common/util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SALT_LEN 16
#define HASH_LEN 32
#define MAX_ITERATIONS 10000000

/* derive - PBKDF2 of password with salt; false if OpenSSL fails */
static bool derive(const char *password, const unsigned char *salt, size_t saltlen, long iterations,
		   unsigned char out[HASH_LEN])
{
	return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)saltlen,
				 (int)iterations, EVP_sha256(), HASH_LEN, out) == 1;
}

char *tgm_password_hash(const char *password)
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	char *s64, *h64, *out;

	tgm_random_bytes(salt, sizeof(salt));
	if (!derive(password, salt, sizeof(salt), TGM_PASSWORD_ITERATIONS, hash)) {
		fprintf(stderr, "<2>PBKDF2 failed\n");
		abort();
	}
	s64 = tgm_base64_encode(salt, sizeof(salt));
	h64 = tgm_base64_encode(hash, sizeof(hash));
	out = tgm_xasprintf("pbkdf2-sha256$%d$%s$%s", TGM_PASSWORD_ITERATIONS, s64, h64);
	free(s64);
	free(h64);
	return out;
}

/* split - the stored form's iterations, salt and hash parts; false if malformed */
static bool split(const char *stored, long *iterations, char **salt64, char **hash64)
{
	const char *p = stored + strlen("pbkdf2-sha256$"), *d1, *d2;
	char *end;

	if (strncmp(stored, "pbkdf2-sha256$", strlen("pbkdf2-sha256$")) != 0)
		return false;
	*iterations = strtol(p, &end, 10);
	if (end == p || *end != '$' || *iterations < 1 || *iterations > MAX_ITERATIONS)
		return false;
	d1 = end + 1;
	d2 = strchr(d1, '$');
	if (d2 == NULL)
		return false;
	*salt64 = tgm_xstrndup(d1, (size_t)(d2 - d1));
	*hash64 = tgm_xstrdup(d2 + 1);
	return true;
}

bool tgm_password_verify(const char *password, const char *stored)
{
	unsigned char *salt = NULL, *want = NULL, got[HASH_LEN];
	char *salt64, *hash64;
	size_t saltlen = 0, wantlen = 0;
	long iterations;
	bool ok = false;

	if (!split(stored, &iterations, &salt64, &hash64))
		return false;
	salt = tgm_base64_decode(salt64, &saltlen);
	want = tgm_base64_decode(hash64, &wantlen);
	if (salt && want && wantlen == HASH_LEN && derive(password, salt, saltlen, iterations, got))
		ok = tgm_ct_equal(got, want, HASH_LEN);
	free(salt);
	free(want);
	free(salt64);
	free(hash64);
	return ok;
}

void tgm_password_new(char out[TGM_PASSWORD_GEN_LEN + 1])
{
	/* no 0/O, 1/l/I: read aloud or copied by hand */
	tgm_random_token(out, TGM_PASSWORD_GEN_LEN,
			 "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789");
}

const char *tgm_password_check(const char *password)
{
	size_t n = strlen(password);

	if (n < TGM_PASSWORD_MIN)
		return "a password needs at least 10 characters";
	if (n > TGM_PASSWORD_MAX)
		return "a password has at most 512 characters";
	if (!tgm_utf8_valid(password))
		return "a password must be UTF-8 text";
	return NULL;
}
