/*
 * stripe.c - Stripe API calls over httpc (see stripe.h): the form encoding, the
 * headers (Bearer key, Stripe-Version, Idempotency-Key), and the answer read into a
 * result with Stripe's error fields. A call owns a small record until its callback.
 */
#include "common/stripe.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_DEPTH 8

struct st_call {
	tgm_stripe_cb cb;
	void *arg;
};

/* form_escape - percent-encode s into f; brackets stay as they are when keep */
static void form_escape(struct tgm_buf *f, const char *s, int keep_brackets)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~", *p) ||
		    (keep_brackets && (*p == '[' || *p == ']'))) {
			tgm_buf_addc(f, (char)*p);
			continue;
		}
		tgm_buf_addc(f, '%');
		tgm_buf_addc(f, hex[*p >> 4]);
		tgm_buf_addc(f, hex[*p & 15]);
	}
}

void tgm_stripe_form_add(struct tgm_buf *f, const char *key, const char *value)
{
	if (f->len > 0)
		tgm_buf_addc(f, '&');
	form_escape(f, key, 1);
	tgm_buf_addc(f, '=');
	form_escape(f, value ? value : "", 0);
}

void tgm_stripe_form_addi(struct tgm_buf *f, const char *key, int64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "%lld", (long long)value);
	tgm_stripe_form_add(f, key, text);
}

const char *tgm_stripe_get_str(yajl_val obj, const char *path)
{
	char copy[256], *parts[PATH_DEPTH + 1], *save = NULL, *w;
	size_t n = 0;
	yajl_val v;

	snprintf(copy, sizeof(copy), "%s", path);
	for (w = strtok_r(copy, ".", &save); w && n < PATH_DEPTH; w = strtok_r(NULL, ".", &save))
		parts[n++] = w;
	parts[n] = NULL;
	v = obj ? yajl_tree_get(obj, (const char **)parts, yajl_t_string) : NULL;
	return v ? YAJL_GET_STRING(v) : NULL;
}

/* read_error - Stripe's {"error": {...}} into r */
static void read_error(yajl_val root, struct tgm_stripe_result *r)
{
	yajl_val e = tgm_json_get(root, "error");

	r->obj = e;
	r->type = tgm_json_get_str(e, "type");
	r->code = tgm_json_get_str(e, "code");
	r->decline_code = tgm_json_get_str(e, "decline_code");
	r->message = tgm_json_get_str(e, "message");
	if (r->message == NULL)
		r->message = "Stripe answered an error without a message";
}

/* calls - Stripe calls answered in this process, by enum tgm_stripe_outcome */
static unsigned long calls[TGM_STRIPE_OUTCOMES];

unsigned long tgm_stripe_calls(enum tgm_stripe_outcome o)
{
	return calls[o];
}

/* on_answer - httpc's answer as a Stripe result, to the caller */
static void on_answer(const struct tgm_httpc_resp *h, void *arg)
{
	struct st_call *call = arg;
	struct tgm_stripe_result r = { .status = h->status };
	char err[160], why[200];
	yajl_val root = NULL;

	if (h->error) {
		snprintf(why, sizeof(why), "%s", h->error);
		tgm_redact(why);
		r.message = why;
		r.retry = true;
	} else if ((root = tgm_json_parse(h->body, h->len, h->len, TGM_JSON_MAX_DEPTH, err,
					  sizeof(err))) == NULL ||
		   !YAJL_IS_OBJECT(root)) {
		snprintf(why, sizeof(why), "HTTP %ld with a body that is not a JSON object",
			 h->status);
		r.message = why;
		r.retry = h->status >= 500 || h->status == 429 || h->status == 409;
	} else if (h->status >= 200 && h->status < 300) {
		r.ok = true;
		r.obj = root;
	} else {
		read_error(root, &r);
		r.retry = h->status >= 500 || h->status == 429 || h->status == 409;
	}
	calls[r.ok ? TGM_STRIPE_OK : h->error ? TGM_STRIPE_NO_ANSWER : TGM_STRIPE_ERROR]++;
	call->cb(&r, call->arg);
	if (root)
		yajl_tree_free(root);
	free(call);
}

void tgm_stripe_call(struct tgm_httpc *c, const struct tgm_stripe_conf *conf, const char *method,
		     const char *path, const char *form, const char *idem_key, tgm_stripe_cb cb,
		     void *arg)
{
	struct st_call *call = tgm_xcalloc(1, sizeof(*call));
	bool post = strcmp(method, "POST") == 0;
	const char *headers[5];
	char *auth, *version = NULL, *idem = NULL, *url;
	size_t n = 0;

	if (post && (idem_key == NULL || *idem_key == '\0'))
		TGM_BUG("a Stripe POST to %s without an Idempotency-Key", path);
	call->cb = cb;
	call->arg = arg;
	auth = tgm_xasprintf("Authorization: Bearer %s", conf->secret_key);
	headers[n++] = auth;
	headers[n++] = "Content-Type: application/x-www-form-urlencoded";
	if (conf->version && *conf->version)
		headers[n++] = version = tgm_xasprintf("Stripe-Version: %s", conf->version);
	if (post)
		headers[n++] = idem = tgm_xasprintf("Idempotency-Key: %s", idem_key);
	headers[n] = NULL;
	url = tgm_xasprintf("%s%s%s%s", conf->api_url, path, !post && form ? "?" : "",
			    !post && form ? form : "");
	tgm_httpc_request(c, method, url, headers, post ? form : NULL,
			  post && form ? strlen(form) : 0, conf->timeout_ms, on_answer, call);
	memset(auth, 0, strlen(auth));
	free(auth);
	free(version);
	free(idem);
	free(url);
}
