/*
 * crypto.h - the cryptography tgm needs, over OpenSSL: random tokens, SHA-256,
 * HMAC-SHA256, constant-time comparison, base64, and AES-256-GCM for secrets at rest.
 *
 * Sealed secrets are text: "v1." base64(nonce[12] || ciphertext || tag[16]). The
 * associated data binds a secret to its place (e.g. "bot:42:token") so a ciphertext
 * copied to another row does not open.
 */
#ifndef TGM_CRYPTO_H
#define TGM_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TGM_SHA256_LEN 32

/* tgm_random_bytes - cryptographically secure; aborts if the RNG fails */
void tgm_random_bytes(void *buf, size_t n);
/* tgm_random_token - n characters from alphabet (NULL: A-Za-z0-9) and a NUL into out */
void tgm_random_token(char *out, size_t n, const char *alphabet);

void tgm_sha256(const void *data, size_t len, unsigned char out[TGM_SHA256_LEN]);
void tgm_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		     unsigned char out[TGM_SHA256_LEN]);

/* tgm_ct_equal - compare n bytes in time independent of their contents */
bool tgm_ct_equal(const void *a, const void *b, size_t n);
/* tgm_ct_streq - strings: the time depends on the lengths only */
bool tgm_ct_streq(const char *a, const char *b);

/* base64 (standard alphabet, padded); caller frees; decode returns NULL if invalid */
char *tgm_base64_encode(const void *data, size_t len);
unsigned char *tgm_base64_decode(const char *text, size_t *len);

/* tgm_seal - encrypt with AES-256-GCM; caller frees the text */
char *tgm_seal(const unsigned char key[32], const void *plain, size_t len, const char *aad);
/* tgm_open - decrypt and authenticate; NUL-terminated plaintext, caller frees; NULL if bad */
char *tgm_open(const unsigned char key[32], const char *sealed, const char *aad, size_t *len);

#endif
