/*
 * password.h - passwords of dashboard accounts: PBKDF2-HMAC-SHA256 (OpenSSL) with a
 * 16-byte random salt per password, kept as text:
 *   "pbkdf2-sha256$<iterations>$<base64 salt>$<base64 hash>"
 * Hashing is slow on purpose (tens of milliseconds): gatewayd runs it off its event
 * loop (gatewayd/worker.c).
 */
#ifndef TGM_PASSWORD_H
#define TGM_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define TGM_PASSWORD_ITERATIONS 210000
#define TGM_PASSWORD_MIN 10  /* characters a new password needs at least */
#define TGM_PASSWORD_MAX 512 /* and at most */
#define TGM_PASSWORD_GEN_LEN 20

/* tgm_password_hash - the stored form of password; caller frees */
char *tgm_password_hash(const char *password);
/* tgm_password_verify - does password match stored? false too when stored is malformed */
bool tgm_password_verify(const char *password, const char *stored);
/* tgm_password_new - a random password to give once (letters and digits) */
void tgm_password_new(char out[TGM_PASSWORD_GEN_LEN + 1]);
/* tgm_password_check - NULL if password is acceptable as a new one, else why not */
const char *tgm_password_check(const char *password);

#endif
