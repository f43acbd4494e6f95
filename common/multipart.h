/*
 * multipart.h - a bounded multipart/form-data parser (RFC 7578) over a body held in
 * memory: parts point into the body, nothing is copied but their names.
 */
#ifndef TGM_MULTIPART_H
#define TGM_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

/* tgm_mp_part - one field or file; data is borrowed from the body */
struct tgm_mp_part {
	char name[128];
	char filename[256];     /* "" for a plain field */
	bool is_file;           /* a filename parameter was given */
	char content_type[128]; /* "" when absent */
	const char *data;
	size_t len;
};

/*
 * tgm_multipart_boundary - the boundary parameter of a multipart/form-data
 * Content-Type (quoted or not, 1 to 70 characters) into out; false if there is none.
 */
bool tgm_multipart_boundary(const char *content_type, char out[71]);

/*
 * tgm_multipart_parse - split body into at most max_parts parts, none longer than
 * max_part bytes. Returns the number of parts, or -1 with one line in err for a
 * malformed body (no boundary, unterminated part, bad headers, a part without a
 * name, too many or too long parts).
 */
int tgm_multipart_parse(const char *content_type, const char *body, size_t len,
			struct tgm_mp_part *parts, int max_parts, size_t max_part, char *err,
			size_t errlen);

#endif
