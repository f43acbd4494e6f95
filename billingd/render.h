/*
 * render.h - a billing notice (billing_outbox: a name and its arguments) as a Telegram
 * call, in words from the text catalog. Pure, so unit-tested.
 */
#ifndef BILLINGD_RENDER_H
#define BILLINGD_RENDER_H

#include <stdint.h>
#include <yajl/yajl_tree.h>

/*
 * bd_render - the notice name with args (a JSON object, borrowed) sent to chat: the
 * params as JSON text (caller frees) and *method; NULL when billingd knows no notice
 * of that name.
 */
char *bd_render(const char *name, yajl_val args, int64_t chat, const char **method);

#endif
