/*
 * render.h - a billing notice (billing_outbox: a name and its arguments) as a Telegram
 * call, in words from the text catalog. Pure, so unit-tested.
 */
#ifndef BILLINGD_RENDER_H
#define BILLINGD_RENDER_H

#include <stdint.h>
#include <yajl/yajl_tree.h>

/*
 * bd_render - the notice name with args (a JSON object, borrowed) sent to chat, said
 * by the bot of settings (its own texts; borrowed, may be NULL) in lang (NULL: the
 * bot's language; see tgm_text_lang): the
 * params as JSON text (caller frees) and *method; NULL when billingd knows no notice
 * of that name.
 */
char *bd_render(const char *name, yajl_val args, int64_t chat, yajl_val settings, const char *lang,
		const char **method);

#endif
