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
	char *token;
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

/* read_params - retry_after and migrate_to_chat_id from "parameters" */
static void read_params(yajl_val root, struct tgm_tg_result *r)
{
	yajl_val params = tgm_json_get(root, "parameters");
	int64_t v;

	if (tgm_json_get_int(params, "retry_after", &v) && v >= 0)
		r->retry_after = v > 86400 * 365 ? 86400 * 365 : (int)v;
	if (tgm_json_get_int(params, "migrate_to_chat_id", &v))
		r->migrate_to_chat_id = v;
}

/*
 * read_answer - fill r from a Bot API body; the tree (caller frees) or NULL when the
 * body is not one, with the reason in why.
 */
static yajl_val read_answer(const struct tgm_httpc_resp *h, struct tgm_tg_result *r,
			    char *why, size_t whylen)
{
	char err[160];
	yajl_val root = tgm_json_parse(h->body, h->len, TGM_TG_MAX_BODY, TGM_JSON_MAX_DEPTH, err,
				       sizeof(err));
	int64_t code;

	if (root == NULL || !tgm_json_get_bool(root, "ok", &r->ok)) {
		size_t sp = strspn(h->body, " \t\r\n");

		if (root)
			snprintf(err, sizeof(err), "no \"ok\" field");
		else if (h->body[sp] != '{')
			snprintf(err, sizeof(err), "%s", h->len ? "not JSON" : "empty");
		snprintf(why, whylen, "HTTP %ld with a body that is not a Bot API answer (%s)",
			 h->status, err);
		yajl_tree_free(root);
		return NULL;
	}
	if (tgm_json_get_int(root, "error_code", &code) && code > 0 && code < 1000)
		r->error_code = (int)code;
	r->description = tgm_json_get_str(root, "description");
	if (r->ok)
		r->result = tgm_json_get(root, "result");
	read_params(root, r);
	return root;
}

void tgm_tg_answer_read(struct tgm_tg_answer *a, const struct tgm_httpc_resp *h,
			const char *token)
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
	} else if ((a->root = read_answer(h, r, a->why, sizeof(a->why))) == NULL) {
		r->transport_error = true;
		r->ambiguous = h->status < 300;
		r->ok = false;
		r->description = a->why;
	}
	if (r->retry_after < 0)
		r->retry_after = h->retry_after;
	if (r->ok && (h->status < 200 || h->status >= 300))
		r->ok = false; /* "ok":true under an error status is no success */
	if (!r->ok)
		r->result = NULL;
	if (!r->ok && r->description == NULL) {
		snprintf(a->why, sizeof(a->why), "HTTP %ld", h->status);
		r->description = a->why;
	}
	if (r->description) {
		a->desc = scrub_token(r->description, token);
		r->description = a->desc;
	}
}

void tgm_tg_answer_free(struct tgm_tg_answer *a)
{
	free(a->desc);
	yajl_tree_free(a->root);
	memset(a, 0, sizeof(*a));
}

/* on_answer - httpc's callback: read the answer, call back, free */
static void on_answer(const struct tgm_httpc_resp *h, void *arg)
{
	struct tg_call *t = arg;
	struct tgm_tg_answer a;

	tgm_tg_answer_read(&a, h, t->token);
	t->cb(&a.r, t->arg);
	tgm_tg_answer_free(&a);
	free(t->token);
	free(t);
}

void tgm_tg_call(struct tgm_httpc *c, const char *api_url, const char *token, const char *method,
		 const char *json, size_t len, int timeout_ms, tgm_tg_cb cb, void *arg)
{
	tgm_tg_call_body(c, api_url, token, method, "application/json", json, len, timeout_ms,
			 cb, arg);
}

void tgm_tg_call_body(struct tgm_httpc *c, const char *api_url, const char *token,
		      const char *method, const char *type, const char *body, size_t len,
		      int timeout_ms, tgm_tg_cb cb, void *arg)
{
	char *ctype = tgm_xasprintf("Content-Type: %s", type);
	const char *headers[2] = { ctype, NULL };
	const char *json = body;
	struct tg_call *t = tgm_xcalloc(1, sizeof(*t));
	size_t n = strlen(api_url);
	char *url;

	while (n > 0 && api_url[n - 1] == '/')
		n--;
	t->cb = cb;
	t->arg = arg;
	t->token = tgm_xstrdup(token);
	url = tgm_xasprintf("%.*s/bot%s/%s", (int)n, api_url, token, method);
	tgm_httpc_request(c, "POST", url, headers, json ? json : "", json ? len : 0, timeout_ms,
			  on_answer, t);
	free(url);
	free(ctype);
}

/* chat_gone_400 - a 400 description saying the chat or user does not exist */
static bool chat_gone_400(const char *d)
{
	static const char *const gone[] = {
		"chat not found", "private chat not found", "user not found", NULL,
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
		[TGM_TG_OK] = "OK", [TGM_TG_RETRY] = "RETRY", [TGM_TG_FLOOD] = "FLOOD",
		[TGM_TG_MIGRATED] = "MIGRATED", [TGM_TG_CHAT_GONE] = "CHAT_GONE",
		[TGM_TG_TOKEN_DEAD] = "TOKEN_DEAD", [TGM_TG_BAD_REQUEST] = "BAD_REQUEST",
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
