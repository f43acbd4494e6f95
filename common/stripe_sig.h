/*
 * stripe_sig.h - verify a Stripe-Signature header: HMAC-SHA256 over "<t>.<raw body>"
 * keyed with the whole whsec_... string, every v1 candidate compared in constant time,
 * other schemes (v0) ignored, the timestamp within a tolerance of now either way.
 */
#ifndef TGM_STRIPE_SIG_H
#define TGM_STRIPE_SIG_H

#include <stddef.h>
#include <stdint.h>

#define TGM_STRIPE_TOLERANCE_DEFAULT 300

/* what tgm_stripe_verify found; 0 is success, every other value a refusal */
enum tgm_stripe_sig {
	TGM_STRIPE_OK = 0,
	TGM_STRIPE_NO_SECRET,    /* secrets holds no secret */
	TGM_STRIPE_NO_HEADER,    /* header NULL or empty */
	TGM_STRIPE_NO_TIMESTAMP, /* no t=, or not a plain decimal number, or two of them */
	TGM_STRIPE_NO_V1,        /* no v1= signature (v0 alone does not count) */
	TGM_STRIPE_NO_MATCH,     /* no v1 matches the body under any secret */
	TGM_STRIPE_TOO_OLD,      /* signed, but t is more than tolerance seconds ago */
	TGM_STRIPE_TOO_NEW,      /* signed, but t is more than tolerance seconds ahead */
};

/*
 * tgm_stripe_verify - check header (the Stripe-Signature value) against the len raw
 * bytes of body. secrets is one or more whsec_ secrets separated by spaces (during a
 * rotation both are valid); each is used whole, as ASCII bytes. now is the Unix time
 * in seconds; tolerance (> 0, else TGM_STRIPE_TOLERANCE_DEFAULT) bounds |now - t|.
 * The signature is checked before the timestamp, so only an authentic header learns
 * about its age. Returns TGM_STRIPE_OK, or another value with a one-line reason in err
 * (which never holds a secret or the expected signature).
 */
enum tgm_stripe_sig tgm_stripe_verify(const char *header, const char *body, size_t len,
				      const char *secrets, int64_t now, int tolerance, char *err,
				      size_t errlen);

#endif
