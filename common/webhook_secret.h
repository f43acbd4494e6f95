/*
 * webhook_secret.h - the secret a tenant's delivery callbacks are signed with
 * (Standard Webhooks: "whsec_" + base64 of 24 random bytes). senderd signs with it
 * (callback.c); gatewayd and tgmctl make it.
 */
#ifndef TGM_WEBHOOK_SECRET_H
#define TGM_WEBHOOK_SECRET_H

/* TGM_WEBHOOK_SECRET_LEN - its length: 38 characters (and a NUL) */
#define TGM_WEBHOOK_SECRET_LEN 38

/* tgm_webhook_secret_new - a new random secret */
void tgm_webhook_secret_new(char out[TGM_WEBHOOK_SECRET_LEN + 1]);

#endif
