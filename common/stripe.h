/*
 * stripe.h - the Stripe API client: form-encoded requests over httpc, the answer
 * parsed, Stripe's error object read (docs/stripe.md sections 1, 5, 6, 7).
 *
 * Used by billingd. Every POST carries an Idempotency-Key the caller derives from the
 * business event (a Telegram update, a recharge row), so a retry after a crash or a
 * timeout repeats the first request's outcome instead of paying twice. The secret key
 * goes into the Authorization header only; no text this module hands out holds it.
 */
#ifndef TGM_STRIPE_H
#define TGM_STRIPE_H

#include "common/buf.h"
#include "common/httpc.h"

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

/* tgm_stripe_conf - where and how to call; every string borrowed for the call only */
struct tgm_stripe_conf {
	const char *api_url;    /* "https://api.stripe.com" */
	const char *secret_key; /* "sk_..." */
	const char *version;    /* Stripe-Version header; "" or NULL: the account's */
	int timeout_ms;
};

/*
 * Form encoding: tgm_stripe_form_add appends key=value ("&" between pairs). The key
 * keeps its brackets as Stripe's own client sends them (metadata[k],
 * line_items[0][price]); everything else of key and value is percent-encoded.
 */
void tgm_stripe_form_add(struct tgm_buf *f, const char *key, const char *value);
void tgm_stripe_form_addi(struct tgm_buf *f, const char *key, int64_t value);

/* tgm_stripe_result - one answer; every pointer is borrowed until the callback returns */
struct tgm_stripe_result {
	bool ok;                  /* 2xx and a JSON object */
	long status;              /* HTTP status, 0 when none came */
	yajl_val obj;             /* the object when ok; the "error" object otherwise */
	const char *type;         /* error.type: card_error, invalid_request_error, ... */
	const char *code;         /* error.code: card_declined, authentication_required */
	const char *decline_code; /* error.decline_code: insufficient_funds, ... */
	const char *message;      /* error.message, or the transport error; NULL when ok */
	bool retry;               /* worth trying again with the same key: no answer,
				   * 409, 429 or 5xx */
};

typedef void (*tgm_stripe_cb)(const struct tgm_stripe_result *r, void *arg);

/*
 * tgm_stripe_call - method ("GET", "POST") path ("/v1/customers") with form as the
 * body of a POST or the query of a GET (NULL: none); idem_key is sent as
 * Idempotency-Key on a POST (required there: a bug without it). cb runs once, later.
 */
void tgm_stripe_call(struct tgm_httpc *c, const struct tgm_stripe_conf *conf, const char *method,
		     const char *path, const char *form, const char *idem_key, tgm_stripe_cb cb,
		     void *arg);

/* tgm_stripe_calls - calls completed in this process with outcome o (for /metrics) */
enum tgm_stripe_outcome {
	TGM_STRIPE_OK,
	TGM_STRIPE_ERROR,
	TGM_STRIPE_NO_ANSWER,
	TGM_STRIPE_OUTCOMES
};
unsigned long tgm_stripe_calls(enum tgm_stripe_outcome o);

/* tgm_stripe_get_str - a string at a dotted path of obj ("customer", "error.code") */
const char *tgm_stripe_get_str(yajl_val obj, const char *path);

#endif
