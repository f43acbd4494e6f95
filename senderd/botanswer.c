/*
 * botanswer.c - Telegram's own answer to a message sent through the Bot API endpoint,
 * kept (botapi_answers: HTTP status and body as Telegram sent them) for gatewayd to
 * hand back to the bot. Recorded in order before the message's transition, so the
 * answer is there when the outcome is published. A later attempt's answer replaces
 * an earlier one's.
 */
#include "senderd/botanswer.h"
#include "senderd/record.h"
#include "senderd/senderd.h"

#include <stdio.h>

static const char keep_sql[] =
	"INSERT INTO botapi_answers (message_id, http_status, body) VALUES ($1, $2, $3)"
	" ON CONFLICT (message_id) DO UPDATE SET http_status = EXCLUDED.http_status,"
	" body = EXCLUDED.body, answered_at = now()";

void botanswer_keep(struct lane *l, const struct pending *p, const struct tgm_tg_result *r)
{
	char id[24], status[16];
	const char *params[3] = { id, status, r->raw };

	if (!p->botapi || r->transport_error || r->raw == NULL)
		return;
	snprintf(id, sizeof(id), "%lld", (long long)p->id);
	snprintf(status, sizeof(status), "%d",
		 r->ok               ? 200
		 : r->error_code > 0 ? r->error_code
				     : 500);
	record_exec(l->sd->record, keep_sql, 3, params);
}
