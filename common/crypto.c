/*
 * crypto.c - OpenSSL behind the small interface of crypto.h.
 *
 * Every function either succeeds or says so by its result; a failing RNG is a bug
 * (TGM_BUG) because nothing secret may be made without it.
 */
#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

#define GCM_NONCE 12
#define GCM_TAG 16
#define SEAL_PREFIX "v1."

void tgm_random_bytes(void *buf, size_t n)
{
	if (RAND_bytes(buf, (int)n) != 1)
		TGM_BUG("RAND_bytes failed");
}

void tgm_random_token(char *out, size_t n, const char *alphabet)
{
	const char *a = alphabet ? alphabet
				 : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t alen = strlen(a), limit = 256 - 256 % alen, i = 0;
	unsigned char r[64];

	while (i < n) {
		tgm_random_bytes(r, sizeof(r));
		for (size_t j = 0; j < sizeof(r) && i < n; j++)
			if (r[j] < limit) /* rejection sampling: no modulo bias */
				out[i++] = a[r[j] % alen];
	}
	out[n] = '\0';
}

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* sha256_fetch - SHA-256 looked up once: EVP_sha256() makes OpenSSL 3 find it in its
 * provider store, under a lock, at every digest (gatewayd hashes each request's key) */
static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (sha256_md == NULL)
		TGM_BUG("EVP_MD_fetch SHA256 failed");
}

void tgm_sha256(const void *data, size_t len, unsigned char out[TGM_SHA256_LEN])
{
	pthread_once(&sha256_once, sha256_fetch);
	if (EVP_Digest(data, len, out, NULL, sha256_md, NULL) != 1)
		TGM_BUG("EVP_Digest failed");
}

void tgm_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		     unsigned char out[TGM_SHA256_LEN])
{
	unsigned int outlen = TGM_SHA256_LEN;

	if (HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) == NULL)
		TGM_BUG("HMAC failed");
}

bool tgm_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

bool tgm_ct_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

char *tgm_base64_encode(const void *data, size_t len)
{
	char *out = tgm_xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

unsigned char *tgm_base64_decode(const char *text, size_t *len)
{
	size_t n = strlen(text), pad = 0;
	unsigned char *out;
	int got;

	if (n % 4 != 0)
		return NULL;
	out = tgm_xmalloc(n / 4 * 3 + 1);
	got = EVP_DecodeBlock(out, (const unsigned char *)text, (int)n);
	if (got < 0) {
		free(out);
		return NULL;
	}
	while (pad < 2 && n > pad && text[n - 1 - pad] == '=')
		pad++;
	*len = (size_t)got - pad; /* EVP_DecodeBlock counts the padding as bytes */
	return out;
}

/* gcm_run - one AES-256-GCM pass; enc=1 seals (writes tag), enc=0 opens (checks tag) */
static bool gcm_run(int enc, const unsigned char key[32], const unsigned char *nonce,
		    const unsigned char *in, size_t len, const char *aad, unsigned char *out,
		    unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	ok = ctx && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_NONCE, NULL) == 1 &&
	     EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1 &&
	     (aad == NULL ||
	      EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1) &&
	     EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 &&
	     (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) == 1) &&
	     EVP_CipherFinal_ex(ctx, out + n, &n) == 1 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

char *tgm_seal(const unsigned char key[32], const void *plain, size_t len, const char *aad)
{
	size_t total = GCM_NONCE + len + GCM_TAG;
	unsigned char *box = tgm_xmalloc(total);
	char *b64, *out;

	tgm_random_bytes(box, GCM_NONCE);
	if (!gcm_run(1, key, box, plain, len, aad, box + GCM_NONCE, box + GCM_NONCE + len))
		TGM_BUG("AES-256-GCM encryption failed");
	b64 = tgm_base64_encode(box, total);
	out = tgm_xasprintf(SEAL_PREFIX "%s", b64);
	OPENSSL_cleanse(box, total);
	free(box);
	free(b64);
	return out;
}

char *tgm_open(const unsigned char key[32], const char *sealed, const char *aad, size_t *len)
{
	size_t total, plen;
	unsigned char *box;
	char *plain;

	if (strncmp(sealed, SEAL_PREFIX, strlen(SEAL_PREFIX)) != 0)
		return NULL;
	box = tgm_base64_decode(sealed + strlen(SEAL_PREFIX), &total);
	if (box == NULL || total < GCM_NONCE + GCM_TAG) {
		free(box);
		return NULL;
	}
	plen = total - GCM_NONCE - GCM_TAG;
	plain = tgm_xmalloc(plen + 1);
	if (!gcm_run(0, key, box, box + GCM_NONCE, plen, aad, (unsigned char *)plain,
		     box + GCM_NONCE + plen)) {
		OPENSSL_cleanse(plain, plen);
		free(plain);
		free(box);
		return NULL;
	}
	plain[plen] = '\0';
	free(box);
	if (len)
		*len = plen;
	return plain;
}
