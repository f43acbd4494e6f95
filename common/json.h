/*
 * json.h - JSON in and out, over yajl.
 *
 * Parsing is strict and bounded: a size and a nesting-depth limit are checked before
 * yajl sees the text, comments are refused, strings must be valid UTF-8. The tree is
 * yajl's (yajl_val); whoever parsed it frees it with yajl_tree_free.
 * Generation uses yajl_gen with helpers for "key": value pairs; their strings, when not
 * valid UTF-8, go out with '?' for each non-ASCII byte, so the document stays whole.
 */
#ifndef TGM_JSON_H
#define TGM_JSON_H

#include "common/utf8.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#define TGM_JSON_MAX_DEPTH 32

/*
 * tgm_json_parse - parse len bytes (not necessarily NUL-terminated).
 * Returns the tree (caller frees with yajl_tree_free) or NULL with a one-line reason
 * in err: too large, too deep, comments, or yajl's own message.
 */
yajl_val tgm_json_parse(const char *text, size_t len, size_t max_len, int max_depth, char *err,
			size_t errlen);

/* lookups in an object; NULL / false when missing or of another type */
yajl_val tgm_json_get(yajl_val obj, const char *key);
const char *tgm_json_get_str(yajl_val obj, const char *key);
bool tgm_json_get_int(yajl_val obj, const char *key, int64_t *out);
bool tgm_json_get_bool(yajl_val obj, const char *key, bool *out);

/* generation: a beautify-free generator; caller frees with yajl_gen_free */
yajl_gen tgm_jgen_new(void);
void tgm_jgen_str(yajl_gen g, const char *s); /* NULL -> null */
void tgm_jgen_strn(yajl_gen g, const char *s, size_t n);
void tgm_jgen_int(yajl_gen g, int64_t v);
void tgm_jgen_kstr(yajl_gen g, const char *key, const char *s);
void tgm_jgen_kint(yajl_gen g, const char *key, int64_t v);
void tgm_jgen_kbool(yajl_gen g, const char *key, bool v);
void tgm_jgen_knull(yajl_gen g, const char *key);
void tgm_jgen_key(yajl_gen g, const char *key);
/* tgm_jgen_tree - copy a parsed tree (e.g. a stored jsonb) into the output */
void tgm_jgen_tree(yajl_gen g, yajl_val v);
/* tgm_jgen_canonical - like tgm_jgen_tree, with every object's keys in byte order, so
 * two texts of the same JSON (keys in another order, other whitespace) give one output */
void tgm_jgen_canonical(yajl_gen g, yajl_val v);
/* tgm_jgen_text - the text so far, borrowed until the generator changes */
const char *tgm_jgen_text(yajl_gen g, size_t *len);

#endif
