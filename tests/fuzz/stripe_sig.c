/*
 * stripe_sig.c - libFuzzer target for common/stripe_sig.c, the Stripe-Signature header
 * check. The input is the header, a newline, then the raw body; a header that verifies
 * against a secret the fuzzer cannot know means the check is broken.
 */
#include "common/stripe_sig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - data) : size;
	size_t blen = nl ? size - hlen - 1 : 0;
	char *header = malloc(hlen + 1);
	char *body = malloc(blen ? blen : 1);
	char err[160];
	enum tgm_stripe_sig r;

	memcpy(header, data, hlen);
	header[hlen] = '\0';
	if (blen)
		memcpy(body, nl + 1, blen);
	r = tgm_stripe_verify(header, body, blen, "whsec_fuzz_one whsec_fuzz_two", 1700000000, 300,
			      err, sizeof(err));
	if (r == TGM_STRIPE_OK || strlen(err) >= sizeof(err) || strstr(err, "whsec_"))
		abort();
	free(header);
	free(body);
	return 0;
}
