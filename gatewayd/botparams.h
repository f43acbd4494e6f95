/*
 * botparams.h - a Bot API call's parameters and uploaded files (see botparams.c).
 */
#ifndef GW_BOTPARAMS_H
#define GW_BOTPARAMS_H

#include "common/multipart.h"

#include <yajl/yajl_tree.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_BOTPARAMS_MAX_PARTS 64

struct gw_botparams {
	char *json;                /* every parameter, one JSON object */
	struct tgm_mp_part *files; /* the uploaded files, borrowed from the body */
	int nfiles;
};

/*
 * gw_botparams_read - query (or NULL) and a body of Content-Type type into bp; false
 * with one line in err for a malformed call. No file is longer than max_part bytes.
 */
bool gw_botparams_read(struct gw_botparams *bp, const char *query, const char *type,
		       const char *body, size_t len, size_t max_part, char *err, size_t errlen);
void gw_botparams_free(struct gw_botparams *bp);

/*
 * gw_botparams_parse - a request's parameters (query and body, as gw_botparams_read
 * reads them) as one parsed JSON object, files ignored; NULL with err if malformed.
 */
yajl_val gw_botparams_parse(const char *query, const char *type, const char *body, size_t len,
			    char *err, size_t errlen);
/* gw_botparams_int - member key as an integer (a JSON number or a decimal string) */
bool gw_botparams_int(yajl_val params, const char *key, int64_t *out);
/* gw_botparams_bool - member key as Telegram reads a boolean (true, "true", 1, "1") */
bool gw_botparams_bool(yajl_val params, const char *key);
/* gw_botparams_strings - member key, an array of strings (or its JSON text, as a form
 * gives it), as a PostgreSQL array literal to free; NULL when absent or not an array */
char *gw_botparams_strings(yajl_val params, const char *key);

#endif
