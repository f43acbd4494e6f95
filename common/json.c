/*
 * json.c - bounded, strict JSON parsing and generation helpers (see json.h).
 */
#include "common/json.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* prescan - depth and comment check outside strings, in one pass */
static bool prescan(const char *t, size_t len, int max_depth, char *err, size_t errlen)
{
	int depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = t[i];

		if (in_str) {
			if (c == '\\' && i + 5 < len && memcmp(t + i + 1, "u0000", 5) == 0) {
				snprintf(err, errlen, "JSON strings must not contain \\u0000");
				return false;
			}
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[') {
			if (++depth > max_depth) {
				snprintf(err, errlen, "JSON nested deeper than %d levels",
					 max_depth);
				return false;
			}
		} else if (c == '}' || c == ']')
			depth--;
		else if (c == '/') {
			snprintf(err, errlen, "JSON comments are not allowed");
			return false;
		} else if (c == '\0') {
			snprintf(err, errlen, "JSON contains a NUL byte");
			return false;
		}
	}
	return true;
}

/* tree_utf8_valid - every string and key of the tree is valid UTF-8 (yajl lets a
 * lone "\ud800" escape through as bytes no UTF-8 reader accepts) */
static bool tree_utf8_valid(yajl_val v)
{
	if (YAJL_IS_STRING(v))
		return tgm_utf8_valid(v->u.string);
	if (YAJL_IS_ARRAY(v)) {
		for (size_t i = 0; i < v->u.array.len; i++)
			if (!tree_utf8_valid(v->u.array.values[i]))
				return false;
	} else if (YAJL_IS_OBJECT(v)) {
		for (size_t i = 0; i < v->u.object.len; i++)
			if (!tgm_utf8_valid(v->u.object.keys[i]) ||
			    !tree_utf8_valid(v->u.object.values[i]))
				return false;
	}
	return true;
}

yajl_val tgm_json_parse(const char *text, size_t len, size_t max_len, int max_depth, char *err,
			size_t errlen)
{
	char ybuf[256] = "";
	char *copy;
	yajl_val v;

	if (len > max_len) {
		snprintf(err, errlen, "JSON larger than %zu bytes", max_len);
		return NULL;
	}
	if (!prescan(text, len, max_depth, err, errlen))
		return NULL;
	copy = tgm_xstrndup(text, len);
	v = yajl_tree_parse(copy, ybuf, sizeof(ybuf));
	free(copy);
	if (v == NULL) {
		char *nl = strchr(ybuf, '\n');
		if (nl)
			*nl = '\0';
		snprintf(err, errlen, "invalid JSON: %s", ybuf[0] ? ybuf : "parse error");
	} else if (!tree_utf8_valid(v)) {
		snprintf(err, errlen,
			 "invalid JSON: a string is not valid UTF-8 (a lone surrogate?)");
		yajl_tree_free(v);
		v = NULL;
	}
	return v;
}

yajl_val tgm_json_get(yajl_val obj, const char *key)
{
	if (obj == NULL || !YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

const char *tgm_json_get_str(yajl_val obj, const char *key)
{
	yajl_val v = tgm_json_get(obj, key);

	return v && YAJL_IS_STRING(v) ? v->u.string : NULL;
}

bool tgm_json_get_int(yajl_val obj, const char *key, int64_t *out)
{
	yajl_val v = tgm_json_get(obj, key);

	if (v == NULL || !YAJL_IS_INTEGER(v))
		return false;
	*out = YAJL_GET_INTEGER(v);
	return true;
}

bool tgm_json_get_bool(yajl_val obj, const char *key, bool *out)
{
	yajl_val v = tgm_json_get(obj, key);

	if (v == NULL || !(YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)))
		return false;
	*out = YAJL_IS_TRUE(v);
	return true;
}

yajl_gen tgm_jgen_new(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (g == NULL)
		abort();
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

/*
 * jgen_string - n bytes as a JSON string. yajl refuses invalid UTF-8 by emitting
 * nothing, which would shift every later value onto the wrong key (a fuzzing finding);
 * such text goes out with each non-ASCII byte as '?' instead.
 */
static void jgen_string(yajl_gen g, const char *s, size_t n)
{
	char *copy;

	if (yajl_gen_string(g, (const unsigned char *)s, n) != yajl_gen_invalid_string)
		return;
	copy = tgm_xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	yajl_gen_string(g, (const unsigned char *)copy, n);
	free(copy);
}

void tgm_jgen_str(yajl_gen g, const char *s)
{
	if (s == NULL)
		yajl_gen_null(g);
	else
		jgen_string(g, s, strlen(s));
}

void tgm_jgen_strn(yajl_gen g, const char *s, size_t n)
{
	jgen_string(g, s, n);
}

void tgm_jgen_int(yajl_gen g, int64_t v)
{
	yajl_gen_integer(g, (long long)v);
}

void tgm_jgen_key(yajl_gen g, const char *key)
{
	jgen_string(g, key, strlen(key));
}

void tgm_jgen_kstr(yajl_gen g, const char *key, const char *s)
{
	tgm_jgen_key(g, key);
	tgm_jgen_str(g, s);
}

void tgm_jgen_kint(yajl_gen g, const char *key, int64_t v)
{
	tgm_jgen_key(g, key);
	yajl_gen_integer(g, (long long)v);
}

void tgm_jgen_kbool(yajl_gen g, const char *key, bool v)
{
	tgm_jgen_key(g, key);
	yajl_gen_bool(g, v);
}

void tgm_jgen_knull(yajl_gen g, const char *key)
{
	tgm_jgen_key(g, key);
	yajl_gen_null(g);
}

void tgm_jgen_tree(yajl_gen g, yajl_val v)
{
	if (v == NULL || YAJL_IS_NULL(v)) {
		yajl_gen_null(g);
	} else if (YAJL_IS_STRING(v)) {
		tgm_jgen_str(g, v->u.string);
	} else if (YAJL_IS_NUMBER(v)) {
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			tgm_jgen_tree(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	} else {
		yajl_gen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			tgm_jgen_key(g, v->u.object.keys[i]);
			tgm_jgen_tree(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
	}
}

/* key_order - qsort order of an object's member indexes, by key bytes, then (for a
 * repeated key) by index, so the order never depends on qsort being stable */
static int key_order(const void *a, const void *b, void *keys)
{
	const char **k = keys;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	int c = strcmp(k[ia], k[ib]);

	return c ? c : (ia > ib) - (ia < ib);
}

/* canonical_object - an object's members in key order */
static void canonical_object(yajl_gen g, yajl_val v)
{
	size_t n = v->u.object.len, *order = tgm_xcalloc(n ? n : 1, sizeof(*order));

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), key_order, (void *)v->u.object.keys);
	yajl_gen_map_open(g);
	for (size_t i = 0; i < n; i++) {
		tgm_jgen_key(g, v->u.object.keys[order[i]]);
		tgm_jgen_canonical(g, v->u.object.values[order[i]]);
	}
	yajl_gen_map_close(g);
	free(order);
}

void tgm_jgen_canonical(yajl_gen g, yajl_val v)
{
	if (v && YAJL_IS_OBJECT(v)) {
		canonical_object(g, v);
	} else if (v && YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			tgm_jgen_canonical(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	} else {
		tgm_jgen_tree(g, v);
	}
}

const char *tgm_jgen_text(yajl_gen g, size_t *len)
{
	const unsigned char *buf;
	size_t n;

	yajl_gen_get_buf(g, &buf, &n);
	if (len)
		*len = n;
	return (const char *)buf;
}
