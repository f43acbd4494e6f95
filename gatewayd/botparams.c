/*
 * botparams.c - a Bot API call's parameters as Telegram takes them: the query string,
 * then the body (JSON, application/x-www-form-urlencoded, or multipart/form-data with
 * files), gathered into one JSON object. Form and multipart values stay strings, as
 * Telegram reads them; the files of a multipart body are kept apart, borrowed from it.
 */
#include "gatewayd/botparams.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/multipart.h"
#include "common/utf8.h"
#include "common/util.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#define JSON_DEPTH 32

/* starts - Content-Type type is of the given media type */
static bool starts(const char *type, const char *media)
{
	size_t n = strlen(media);

	return type && strncasecmp(type, media, n) == 0 &&
	       (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

/* text_ok - n bytes fit for a JSON string member: UTF-8 without NUL (yajl's generator
 * drops an invalid string, which would shift every later key onto a value; PostgreSQL
 * refuses \u0000) */
static bool text_ok(const char *s, size_t n)
{
	char *t;
	bool ok;

	if (memchr(s, '\0', n))
		return false;
	t = tgm_xstrndup(s, n);
	ok = tgm_utf8_valid(t);
	free(t);
	return ok;
}

/* add_pairs - the pairs of a query string as string members; false if malformed */
static bool add_pairs(yajl_gen g, const char *text)
{
	struct evkeyvalq q;
	struct evkeyval *kv;

	TAILQ_INIT(&q);
	if (evhttp_parse_query_str(text, &q) != 0) {
		evhttp_clear_headers(&q);
		return false;
	}
	TAILQ_FOREACH(kv, &q, next)
	{
		if (!tgm_utf8_valid(kv->key) || !tgm_utf8_valid(kv->value)) {
			evhttp_clear_headers(&q);
			return false;
		}
	}
	TAILQ_FOREACH(kv, &q, next)
	tgm_jgen_kstr(g, kv->key, kv->value);
	evhttp_clear_headers(&q);
	return true;
}

/* add_form - a form body's pairs: its len bytes (not necessarily NUL-terminated, and
 * refused when they hold a NUL, which would hide the pairs after it) */
static bool add_form(yajl_gen g, const char *body, size_t len)
{
	char *text;
	bool ok;

	if (memchr(body, '\0', len))
		return false;
	text = tgm_xstrndup(body, len);
	ok = add_pairs(g, text);
	free(text);
	return ok;
}

/* add_json - the members of a JSON object body; false if it is not one */
static bool add_json(yajl_gen g, const char *body, size_t len, char *err, size_t errlen)
{
	yajl_val v = tgm_json_parse(body, len, len, JSON_DEPTH, err, errlen);

	if (v == NULL || !YAJL_IS_OBJECT(v)) {
		if (v)
			snprintf(err, errlen, "the body must be a JSON object");
		yajl_tree_free(v);
		return false;
	}
	for (size_t i = 0; i < v->u.object.len; i++) {
		tgm_jgen_key(g, v->u.object.keys[i]);
		tgm_jgen_tree(g, v->u.object.values[i]);
	}
	yajl_tree_free(v);
	return true;
}

/* add_parts - a multipart body's fields as string members, its files into bp */
static bool add_parts(yajl_gen g, struct gw_botparams *bp, const char *type, const char *body,
		      size_t len, size_t max_part, char *err, size_t errlen)
{
	struct tgm_mp_part *parts = tgm_xcalloc(GW_BOTPARAMS_MAX_PARTS, sizeof(*parts));
	int n = tgm_multipart_parse(type, body, len, parts, GW_BOTPARAMS_MAX_PARTS, max_part, err,
				    errlen);

	for (int i = 0; i < n; i++) {
		if (!text_ok(parts[i].name, strlen(parts[i].name)) ||
		    (!parts[i].is_file && !text_ok(parts[i].data, parts[i].len))) {
			snprintf(err, errlen, "a field's name or value is not UTF-8 text");
			n = -1;
			break;
		}
	}
	for (int i = 0; i < n; i++) {
		if (parts[i].is_file) {
			bp->files[bp->nfiles++] = parts[i];
			continue;
		}
		tgm_jgen_key(g, parts[i].name);
		tgm_jgen_strn(g, parts[i].data, parts[i].len);
	}
	free(parts);
	return n >= 0;
}

bool gw_botparams_read(struct gw_botparams *bp, const char *query, const char *type,
		       const char *body, size_t len, size_t max_part, char *err, size_t errlen)
{
	yajl_gen g = tgm_jgen_new();
	bool ok = true;
	size_t n;

	memset(bp, 0, sizeof(*bp));
	bp->files = tgm_xcalloc(GW_BOTPARAMS_MAX_PARTS, sizeof(*bp->files));
	yajl_gen_map_open(g);
	if (query && !add_pairs(g, query)) {
		snprintf(err, errlen, "the query string is malformed");
		ok = false;
	}
	if (ok && len > 0) {
		if (starts(type, "application/json"))
			ok = add_json(g, body, len, err, errlen);
		else if (starts(type, "multipart/form-data"))
			ok = add_parts(g, bp, type, body, len, max_part, err, errlen);
		else if (!(ok = add_form(g, body, len)))
			snprintf(err, errlen, "the form body is malformed");
	}
	yajl_gen_map_close(g);
	if (ok)
		bp->json = tgm_xstrdup(tgm_jgen_text(g, &n));
	yajl_gen_free(g);
	return ok;
}

void gw_botparams_free(struct gw_botparams *bp)
{
	free(bp->json);
	free(bp->files);
	memset(bp, 0, sizeof(*bp));
}

yajl_val gw_botparams_parse(const char *query, const char *type, const char *body, size_t len,
			    char *err, size_t errlen)
{
	struct gw_botparams bp;
	yajl_val v = NULL;

	if (gw_botparams_read(&bp, query, type, body, len, len, err, errlen))
		v = tgm_json_parse(bp.json, strlen(bp.json), strlen(bp.json), JSON_DEPTH, err,
				   errlen);
	gw_botparams_free(&bp);
	return v;
}

bool gw_botparams_int(yajl_val params, const char *key, int64_t *out)
{
	const char *s = tgm_json_get_str(params, key);

	if (tgm_json_get_int(params, key, out))
		return true;
	return s && tgm_parse_int64(s, out);
}

bool gw_botparams_bool(yajl_val params, const char *key)
{
	const char *s = tgm_json_get_str(params, key);
	int64_t n = 0;
	bool b = false;

	if (tgm_json_get_bool(params, key, &b))
		return b;
	if (tgm_json_get_int(params, key, &n))
		return n != 0;
	return s && (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0);
}

char *gw_botparams_strings(yajl_val params, const char *key)
{
	yajl_val v = tgm_json_get(params, key), parsed = NULL;
	const char *text = tgm_json_get_str(params, key);
	struct tgm_buf b;
	char err[64];
	char *out;

	if (text)
		v = parsed = tgm_json_parse(text, strlen(text), strlen(text), 4, err, sizeof(err));
	if (v == NULL || !YAJL_IS_ARRAY(v)) {
		yajl_tree_free(parsed);
		return NULL;
	}
	tgm_buf_init(&b);
	for (size_t i = 0; i < v->u.array.len; i++)
		if (YAJL_IS_STRING(v->u.array.values[i]))
			tgm_pgarr_add(&b, YAJL_GET_STRING(v->u.array.values[i]));
	tgm_pgarr_end(&b);
	out = tgm_xstrdup(b.p);
	tgm_buf_free(&b);
	yajl_tree_free(parsed);
	return out;
}
