/*
 * telegram.c - Bot API calls over httpc and the classification of their outcome
 * (see telegram.h).
 *
 * A call owns a small record (callback, argument, token) until its answer is parsed.
 * The answer's tree and the scrubbed description live only for the callback. The token
 * is removed from every description, whatever produced it (curl's message, a proxy's
 * page, Telegram echoing it), and tgm_redact catches other secrets.
 */
#include "common/telegram.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct tg_call {
	tgm_tg_cb cb;
	void *arg;
	bool lean; /* read the answer without a tree (tgm_tg_send) */
	char token[];
};

/* scrub_token - a copy of s with every occurrence of token replaced by "***" */
static char *scrub_token(const char *s, const char *token)
{
	size_t tn = strlen(token), n = 0;
	char *out = tgm_xmalloc(strlen(s) * 3 + 1); /* "***" per char is the worst case */
	const char *p;

	while (tn > 0 && (p = strstr(s, token)) != NULL) {
		memcpy(out + n, s, (size_t)(p - s));
		n += (size_t)(p - s);
		memcpy(out + n, "***", 3);
		n += 3;
		s = p + tn;
	}
	memcpy(out + n, s, strlen(s) + 1);
	tgm_redact(out);
	return out;
}

/* set_error_code - Telegram's error_code, when it is one */
static void set_error_code(struct tgm_tg_result *r, int64_t code)
{
	if (code > 0 && code < 1000)
		r->error_code = (int)code;
}

/* set_retry_after - parameters.retry_after, when it is one (at most a year) */
static void set_retry_after(struct tgm_tg_result *r, int64_t v)
{
	if (v >= 0)
		r->retry_after = v > 86400 * 365 ? 86400 * 365 : (int)v;
}

/* not_answer - why h's body is no Bot API answer, from the parser's err */
static void not_answer(const struct tgm_httpc_resp *h, char *err, size_t errlen, char *why,
		       size_t whylen)
{
	size_t sp = strspn(h->body, " \t\r\n");

	if (h->body[sp] != '{' && strncmp(err, "no ", 3) != 0)
		snprintf(err, errlen, "%s", h->len ? "not JSON" : "empty");
	snprintf(why, whylen, "HTTP %ld with a body that is not a Bot API answer (%s)", h->status,
		 err);
}

/* read_params - retry_after and migrate_to_chat_id from "parameters" */
static void read_params(yajl_val root, struct tgm_tg_result *r)
{
	yajl_val params = tgm_json_get(root, "parameters");
	int64_t v;

	if (tgm_json_get_int(params, "retry_after", &v))
		set_retry_after(r, v);
	if (tgm_json_get_int(params, "migrate_to_chat_id", &v))
		r->migrate_to_chat_id = v;
}

/* read_result - "result" and its message_id (or the integer it is) */
static void read_result(yajl_val root, struct tgm_tg_result *r)
{
	r->result = tgm_json_get(root, "result");
	if (!tgm_json_get_int(r->result, "message_id", &r->message_id) && r->result &&
	    YAJL_IS_INTEGER(r->result))
		r->message_id = YAJL_GET_INTEGER(r->result);
}

/*
 * read_tree - fill a->r from a Bot API body parsed into a tree (a->root); false when
 * the body is not one, with the reason in a->why.
 */
static bool read_tree(struct tgm_tg_answer *a, const struct tgm_httpc_resp *h)
{
	struct tgm_tg_result *r = &a->r;
	char err[160];
	yajl_val root = tgm_json_parse(h->body, h->len, TGM_TG_MAX_BODY, TGM_JSON_MAX_DEPTH, err,
				       sizeof(err));
	int64_t code;

	if (root == NULL || !tgm_json_get_bool(root, "ok", &r->ok)) {
		if (root)
			snprintf(err, sizeof(err), "no \"ok\" field");
		not_answer(h, err, sizeof(err), a->why, sizeof(a->why));
		yajl_tree_free(root);
		return false;
	}
	a->root = root;
	if (tgm_json_get_int(root, "error_code", &code))
		set_error_code(r, code);
	r->description = tgm_json_get_str(root, "description");
	if (r->ok)
		read_result(root, r);
	read_params(root, r);
	return true;
}

/*
 * read_lean - the same read in one pass without a tree (tganswer.c, into a->lean): what
 * a send needs, with no allocation but the description's
 */
static bool read_lean(struct tgm_tg_answer *a, const struct tgm_httpc_resp *h)
{
	struct tgm_tganswer *t = &a->lean;
	struct tgm_tg_result *r = &a->r;
	char err[160];
	bool json = false;

	if (h->len > TGM_TG_MAX_BODY)
		snprintf(err, sizeof(err), "JSON larger than %d bytes", TGM_TG_MAX_BODY);
	else
		json = tgm_tganswer_parse(t, h->body, h->len, err, sizeof(err));
	if (!json || !t->has_ok) {
		if (json)
			snprintf(err, sizeof(err), "no \"ok\" field");
		not_answer(h, err, sizeof(err), a->why, sizeof(a->why));
		tgm_tganswer_free(t);
		return false;
	}
	r->ok = t->ok;
	if (t->has_error_code)
		set_error_code(r, t->error_code);
	r->description = t->description;
	if (r->ok && t->has_message_id)
		r->message_id = t->message_id;
	if (t->has_retry_after)
		set_retry_after(r, t->retry_after);
	if (t->has_migrate_to_chat_id)
		r->migrate_to_chat_id = t->migrate_to_chat_id;
	return true;
}

/* answer_read - httpc's answer h into a, its body read by a tree or lean */
static void answer_read(struct tgm_tg_answer *a, const struct tgm_httpc_resp *h, const char *token,
			bool lean)
{
	struct tgm_tg_result *r = &a->r;

	memset(a, 0, sizeof(*a));
	r->error_code = (int)h->status;
	r->retry_after = -1;
	r->raw = h->body;
	r->first_byte_ms = h->first_byte_ms;
	if (h->error) {
		r->transport_error = true;
		r->ambiguous = h->sent && h->status < 400;
		r->description = h->error;
	} else if (!(lean ? read_lean(a, h) : read_tree(a, h))) {
		r->transport_error = true;
		r->ambiguous = h->status < 300;
		r->ok = false;
		r->description = a->why;
	}
	if (r->retry_after < 0)
		r->retry_after = h->retry_after;
	if (r->ok && (h->status < 200 || h->status >= 300))
		r->ok = false; /* "ok":true under an error status is no success */
	if (!r->ok) {
		r->result = NULL;
		r->message_id = 0;
	}
	if (!r->ok && r->description == NULL) {
		snprintf(a->why, sizeof(a->why), "HTTP %ld", h->status);
		r->description = a->why;
	}
	if (r->description) {
		a->desc = scrub_token(r->description, token);
		r->description = a->desc;
	}
}

void tgm_tg_answer_read(struct tgm_tg_answer *a, const struct tgm_httpc_resp *h, const char *token)
{
	answer_read(a, h, token, false);
}

void tgm_tg_answer_lean(struct tgm_tg_answer *a, const struct tgm_httpc_resp *h, const char *token)
{
	answer_read(a, h, token, true);
}

void tgm_tg_answer_free(struct tgm_tg_answer *a)
{
	free(a->desc);
	yajl_tree_free(a->root);
	tgm_tganswer_free(&a->lean);
	memset(a, 0, sizeof(*a));
}

/* on_answer - httpc's callback: read the answer, call back, free */
static void on_answer(const struct tgm_httpc_resp *h, void *arg)
{
	struct tg_call *t = arg;
	struct tgm_tg_answer a;

	answer_read(&a, h, t->token, t->lean);
	t->cb(&a.r, t->arg);
	tgm_tg_answer_free(&a);
	free(t);
}

/* call - POST body to <api_url>/bot<token>/<method>; the answer read by a tree or lean.
 * The URL and the header are made on the stack when they fit (they always do for
 * Telegram's own): one allocation per call, the record kept until the answer. */
static void call(struct tgm_httpc *c, const char *api_url, const char *token, const char *method,
		 const char *type, const char *body, size_t len, int timeout_ms, bool lean,
		 tgm_tg_cb cb, void *arg)
{
	char ctype[160], url[512], *big_type = NULL, *big_url = NULL;
	const char *headers[2] = { ctype, NULL }, *u = url;
	size_t n = strlen(api_url), tn = strlen(token);
	struct tg_call *t = tgm_xmalloc(sizeof(*t) + tn + 1);

	while (n > 0 && api_url[n - 1] == '/')
		n--;
	t->cb = cb;
	t->arg = arg;
	t->lean = lean;
	memcpy(t->token, token, tn + 1);
	if ((size_t)snprintf(ctype, sizeof(ctype), "Content-Type: %s", type) >= sizeof(ctype))
		headers[0] = big_type = tgm_xasprintf("Content-Type: %s", type);
	if ((size_t)snprintf(url, sizeof(url), "%.*s/bot%s/%s", (int)n, api_url, token, method) >=
	    sizeof(url))
		u = big_url = tgm_xasprintf("%.*s/bot%s/%s", (int)n, api_url, token, method);
	tgm_httpc_request(c, "POST", u, headers, body ? body : "", body ? len : 0, timeout_ms,
			  on_answer, t);
	free(big_url);
	free(big_type);
}

void tgm_tg_call(struct tgm_httpc *c, const char *api_url, const char *token, const char *method,
		 const char *json, size_t len, int timeout_ms, tgm_tg_cb cb, void *arg)
{
	call(c, api_url, token, method, "application/json", json, len, timeout_ms, false, cb, arg);
}

void tgm_tg_call_body(struct tgm_httpc *c, const char *api_url, const char *token,
		      const char *method, const char *type, const char *body, size_t len,
		      int timeout_ms, tgm_tg_cb cb, void *arg)
{
	call(c, api_url, token, method, type, body, len, timeout_ms, false, cb, arg);
}

void tgm_tg_send(struct tgm_httpc *c, const char *api_url, const char *token, const char *method,
		 const char *type, const char *body, size_t len, int timeout_ms, tgm_tg_cb cb,
		 void *arg)
{
	call(c, api_url, token, method, type ? type : "application/json", body, len, timeout_ms,
	     true, cb, arg);
}

/* chat_gone_400 - a 400 description saying the chat or user does not exist */
static bool chat_gone_400(const char *d)
{
	static const char *const gone[] = {
		"chat not found",
		"private chat not found",
		"user not found",
		NULL,
	};
	if (d == NULL)
		return false;
	if (strncasecmp(d, "Bad Request: ", 13) == 0)
		d += 13;
	for (int i = 0; gone[i]; i++)
		if (strncasecmp(d, gone[i], strlen(gone[i])) == 0)
			return true;
	return false;
}

enum tgm_tg_class tgm_tg_classify(const struct tgm_tg_result *r)
{
	int code = r->error_code;

	if (r->ok && !r->transport_error)
		return TGM_TG_OK;
	if (r->ambiguous)
		return TGM_TG_AMBIGUOUS;
	if (code == 429)
		return TGM_TG_FLOOD;
	if (code >= 500 || code <= 0)
		return TGM_TG_RETRY;
	if (r->migrate_to_chat_id != 0)
		return TGM_TG_MIGRATED;
	if (code == 401 || code == 404 || (code >= 300 && code < 400))
		return TGM_TG_TOKEN_DEAD;
	if (r->transport_error)
		return code < 300 ? TGM_TG_AMBIGUOUS : TGM_TG_BAD_REQUEST;
	if (code == 403 || (code == 400 && chat_gone_400(r->description)))
		return TGM_TG_CHAT_GONE;
	return TGM_TG_BAD_REQUEST;
}

const char *tgm_tg_class_name(enum tgm_tg_class c)
{
	static const char *const names[] = {
		[TGM_TG_OK] = "OK",
		[TGM_TG_RETRY] = "RETRY",
		[TGM_TG_FLOOD] = "FLOOD",
		[TGM_TG_MIGRATED] = "MIGRATED",
		[TGM_TG_CHAT_GONE] = "CHAT_GONE",
		[TGM_TG_TOKEN_DEAD] = "TOKEN_DEAD",
		[TGM_TG_BAD_REQUEST] = "BAD_REQUEST",
		[TGM_TG_AMBIGUOUS] = "AMBIGUOUS",
	};
	if ((unsigned)c < sizeof(names) / sizeof(names[0]) && names[c])
		return names[c];
	return "UNKNOWN";
}

bool tgm_tg_command(const char *text, const char *bot_username, char *name, size_t len,
		    const char **args)
{
	size_t n = 0, m, at_len;
	const char *p = text + 1, *at, *rest;

	if (text[0] != '/')
		return false;
	while (p[n] && p[n] != ' ' && p[n] != '@' && p[n] != '\n')
		n++;
	m = n < len - 1 ? n : len - 1;
	for (size_t i = 0; i < m; i++)
		name[i] = (char)tolower((unsigned char)p[i]);
	name[m] = '\0';
	rest = p + n + strcspn(p + n, " \n");
	while (*rest == ' ' || *rest == '\n')
		rest++;
	if (args)
		*args = rest;
	if (p[n] != '@')
		return true;
	at = p + n + 1;
	at_len = strcspn(at, " \n");
	return strlen(bot_username) == at_len && strncasecmp(at, bot_username, at_len) == 0;
}
