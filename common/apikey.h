/*
 * apikey.h - the shape of tgm API keys: "tgmk_" + 40 letters and digits (about 238
 * bits). Only the SHA-256 (hex) is stored, with the first 12 characters as a prefix
 * for people to recognise a key by.
 */
#ifndef TGM_APIKEY_H
#define TGM_APIKEY_H

#include <stdbool.h>

#define TGM_APIKEY_PREFIX "tgmk_"
#define TGM_APIKEY_LEN 45
#define TGM_APIKEY_PREFIX_LEN 12

/* tgm_apikey_new - a new key, its display prefix and its SHA-256 in hex */
void tgm_apikey_new(char key[TGM_APIKEY_LEN + 1], char prefix[TGM_APIKEY_PREFIX_LEN + 1],
		    char hash_hex[65]);
/* tgm_apikey_hash - SHA-256 in hex of a presented key; false if it is not shaped like one */
bool tgm_apikey_hash(const char *key, char hash_hex[65]);

#endif
