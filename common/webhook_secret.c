/*
 * webhook_secret.c - make webhook signing secrets (see webhook_secret.h).
 */
#include "common/webhook_secret.h"
#include "common/crypto.h"

#include <stdio.h>
#include <stdlib.h>

void tgm_webhook_secret_new(char out[TGM_WEBHOOK_SECRET_LEN + 1])
{
	unsigned char raw[24];
	char *b64;

	tgm_random_bytes(raw, sizeof(raw));
	b64 = tgm_base64_encode(raw, sizeof(raw));
	snprintf(out, TGM_WEBHOOK_SECRET_LEN + 1, "whsec_%s", b64);
	free(b64);
}
