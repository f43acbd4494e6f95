/*
 * tganswer.h - a Bot API answer read in one pass, without building a tree: only what a
 * sender acts on. The whole text is checked as strict JSON (RFC 8259: no comments, no
 * trailing text, strings of valid UTF-8 with escapes that pair their surrogates, no
 * \u0000, at most TGM_JSON_MAX_DEPTH levels), so whatever it accepts tgm_json_parse
 * accepts too, and the two read the same values: the first of a repeated key, integers
 * as yajl's tree has them (no fraction or exponent, within +-INT64_MAX).
 *
 * No allocation but the description's copy: senderd reads every answer of every send
 * with it (telegram.c's tgm_tg_send). Fuzzed against tgm_json_parse (tests/fuzz).
 */
#ifndef TGM_TGANSWER_H
#define TGM_TGANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* tgm_tganswer - the values read; has_X is false when X is missing or of another type */
struct tgm_tganswer {
	bool has_ok, ok; /* "ok" (a boolean) */
	bool has_error_code;
	int64_t error_code; /* "error_code" (an integer) */
	char *description;  /* "description" (a string), decoded; or NULL */
	bool has_retry_after;
	int64_t retry_after; /* "parameters": {"retry_after"} */
	bool has_migrate_to_chat_id;
	int64_t migrate_to_chat_id; /* "parameters": {"migrate_to_chat_id"} */
	bool has_message_id;
	int64_t message_id; /* "result": {"message_id"}, or "result" itself
					  * when it is an integer; never a deeper one */
};

/*
 * tgm_tganswer_parse - read len bytes of text (not necessarily NUL-terminated) into a.
 * False when the text is not JSON, with a one-line reason in err ("invalid JSON: ...")
 * and a left empty; true otherwise, even when the JSON is no object or lacks "ok".
 * The caller frees a with tgm_tganswer_free either way.
 */
bool tgm_tganswer_parse(struct tgm_tganswer *a, const char *text, size_t len, char *err,
			size_t errlen);
/* tgm_tganswer_free - the description; a is empty after */
void tgm_tganswer_free(struct tgm_tganswer *a);

#endif
