/*
 * apikey.c - make and hash API keys (see apikey.h).
 */
#include "common/apikey.h"
#include "common/crypto.h"
#include "common/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tgm_apikey_new(char key[TGM_APIKEY_LEN + 1], char prefix[TGM_APIKEY_PREFIX_LEN + 1],
		    char hash_hex[65])
{
	size_t pl = strlen(TGM_APIKEY_PREFIX);

	memcpy(key, TGM_APIKEY_PREFIX, pl);
	tgm_random_token(key + pl, TGM_APIKEY_LEN - pl, NULL);
	memcpy(prefix, key, TGM_APIKEY_PREFIX_LEN);
	prefix[TGM_APIKEY_PREFIX_LEN] = '\0';
	tgm_apikey_hash(key, hash_hex);
}

bool tgm_apikey_hash(const char *key, char hash_hex[65])
{
	size_t pl = strlen(TGM_APIKEY_PREFIX);
	unsigned char d[TGM_SHA256_LEN];

	if (strlen(key) != TGM_APIKEY_LEN || strncmp(key, TGM_APIKEY_PREFIX, pl) != 0)
		return false;
	for (size_t i = pl; i < TGM_APIKEY_LEN; i++)
		if (!isalnum((unsigned char)key[i]))
			return false;
	tgm_sha256(key, TGM_APIKEY_LEN, d);
	tgm_hex_encode(d, sizeof(d), hash_hex);
	return true;
}
