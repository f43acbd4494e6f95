/*
 * export.c - GET /v1/exports/messages.csv: the tenant's messages (filtered by bot and
 * status) as CSV, newest first, of any size, streamed by csvstream.c (batches of 1,000
 * read by id, each written out before the next is read, so memory stays bounded and a
 * client that stops reading stops the export).
 */
#include "gatewayd/csvstream.h"
#include "common/util.h"

/* $1 tenant, $2 bot, $3 status, $4 the cursor: ids below it */
static const char batch_sql[] =
	"SELECT id, bot_id, chat, method, status, attempts,"
	" coalesce(params->>'text', params->>'caption'), created_at, sent_at, last_error, id"
	" FROM messages WHERE tenant_id = $1 AND ($2::bigint IS NULL OR bot_id = $2)"
	" AND ($3::text IS NULL OR status = $3) AND id < $4::bigint"
	" ORDER BY id DESC LIMIT 1000";

/* the text and the last error are others' words: guarded */
static const struct gw_csv_part messages[] = {
	{ batch_sql, 10, 1u << 6 | 1u << 9, "9223372036854775807" },
};

void gw_export_messages(struct gw_req *r)
{
	const char *bot = gw_query(r, "bot_id"), *status = gw_query(r, "status");
	char tenant[24];
	int64_t v;

	if (bot && (!tgm_parse_int64(bot, &v) || v <= 0)) {
		gw_reply_problem(r, 422, "invalid_parameter", "must be a positive integer",
				 "bot_id");
		return;
	}
	gw_tenant_param(r, tenant);
	gw_csv_stream(r, "messages.csv",
		      "id,bot_id,chat,method,status,attempts,text,created_at,"
		      "sent_at,last_error\r\n",
		      messages, 1, (const char *const[]){ tenant, bot, status }, 3);
}
