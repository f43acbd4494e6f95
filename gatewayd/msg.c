/*
 * msg.c - freeing a struct gw_msg (accept.h), apart from the accept pipeline so that
 * validate.c and its fuzz target (tests/fuzz/validate.c) link without the server.
 */
#include "gatewayd/accept.h"

#include <stdlib.h>

void gw_msg_free(struct gw_msg *m)
{
	if (m == NULL)
		return;
	free(m->chat);
	free(m->method);
	free(m->params);
	free(m->send_at);
	free(m->idem_key);
	free(m->callback_url);
	free(m->metadata);
	free(m);
}
