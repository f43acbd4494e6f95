/*
 * telegram.c - libFuzzer target for common/telegram.c's reading of a Bot API answer:
 * the input is two bytes of HTTP status, one of Retry-After, then the body, read both
 * ways (a tree, and tgm_tg_answer_lean's one pass, senderd's); the result is
 * classified, success needs a 2xx, and the bot token never shows in the description.
 */
#include "common/telegram.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN "123456:AAHfuzzTokenNeverShown"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tgm_httpc_resp h = { .retry_after = -1 };
	struct tgm_tg_answer a;
	enum tgm_tg_class c;
	char *body;

	if (size < 3)
		return 0;
	h.status = (data[0] << 8 | data[1]) % 600;
	h.retry_after = data[2] == 0xff ? -1 : data[2];
	h.len = size - 3;
	body = malloc(h.len + 1); /* httpc's bodies are NUL-terminated */
	memcpy(body, data + 3, h.len);
	body[h.len] = '\0';
	h.body = body;
	for (int lean = 0; lean < 2; lean++) {
		if (lean)
			tgm_tg_answer_lean(&a, &h, TOKEN);
		else
			tgm_tg_answer_read(&a, &h, TOKEN);
		c = tgm_tg_classify(&a.r);
		if (tgm_tg_class_name(c) == NULL ||
		    (a.r.ok && (h.status < 200 || h.status >= 300)) || (a.r.ok && c != TGM_TG_OK) ||
		    (!a.r.ok && a.r.description == NULL) ||
		    (a.r.description && strstr(a.r.description, TOKEN)) ||
		    (!a.r.ok && a.r.message_id != 0))
			abort();
		tgm_tg_answer_free(&a);
	}
	free(body);
	return 0;
}
