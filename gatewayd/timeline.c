/*
 * timeline.c - a conversation's timeline: GET /v1/conversations/{id}/timeline merges
 * its items (inbound messages, events, notes) with the bot's outbound messages to the
 * chat, read from messages through messages_bot_chat (sql/002) with their delivery
 * state, newest first, paged by an (at, source, id) cursor. POST
 * /v1/conversations/{id}/notes adds an agent's private note (never sent).
 */
#include "gatewayd/inbox.h"

#include <string.h>

#define EMAIL_OF(id) "(SELECT a.email FROM accounts a WHERE a.id = " id ")"

/* clang-format off */
#define ITEM_JSON \
	"json_build_object('type', i.kind, 'id', i.id," \
	" 'direction', CASE WHEN i.kind = 'message' THEN 'in' END, 'text', i.text," \
	" 'media_kind', i.media_kind, 'file_id', i.file_id," \
	" 'telegram_message_id', i.telegram_message_id, 'reply_to', i.reply_to," \
	" 'event', i.event, 'account_id', i.account_id," \
	" 'account_email', " EMAIL_OF("i.account_id") ", 'edits', i.edits," \
	" 'edited_at', i.edited_at, 'at', i.at)"

#define MSG_JSON \
	"json_build_object('type', 'message', 'id', m.id, 'direction', 'out'," \
	" 'text', coalesce(m.params->>'text', m.params->>'caption'), 'method', m.method," \
	" 'status', m.status, 'error', m.last_error," \
	" 'telegram_message_id', m.telegram_message_id," \
	" 'reply_to', (m.params->'reply_parameters'->>'message_id')::bigint," \
	" 'source', CASE WHEN m.metadata ? 'bridge' THEN 'topic' ELSE m.metadata->>'source' END," \
	" 'account_id', (m.metadata->>'account')::bigint," \
	" 'account_email', " EMAIL_OF("(m.metadata->>'account')::bigint") "," \
	" 'autoreply', (m.metadata->>'autoreply')::bigint," \
	" 'at', m.created_at, 'sent_at', m.sent_at)"
/* clang-format on */

/* $3: "<microseconds since 1970>.<source>.<id>" of the page before (NULL: from the top) */
#define CURSOR \
	"(CASE WHEN $3::text IS NULL THEN timestamptz 'infinity' ELSE timestamptz 'epoch'" \
	" + split_part($3, '.', 1)::bigint * interval '1 microsecond' END," \
	" coalesce(split_part($3, '.', 2)::int, 9), coalesce(split_part($3, '.', 3)::bigint, 0))"

static const char timeline_sql[] =
	"SELECT x.j, (extract(epoch FROM x.at) * 1000000)::bigint || '.' || x.src || '.' || x.id"
	" FROM conversations c LEFT JOIN LATERAL (SELECT * FROM ("
	"  (SELECT " ITEM_JSON " AS j, i.at, 0 AS src, i.id FROM conversation_items i"
	"   WHERE i.conversation_id = c.id AND (i.at, 0, i.id) < " CURSOR
	"   ORDER BY i.at DESC, i.id DESC LIMIT $4)"
	"  UNION ALL"
	"  (SELECT " MSG_JSON ", m.created_at, 1, m.id FROM messages m"
	"   WHERE m.bot_id = c.bot_id AND m.chat = c.chat_id::text"
	"   AND (m.created_at, 1, m.id) < " CURSOR " ORDER BY m.id DESC LIMIT $4)) y"
	"  ORDER BY y.at DESC, y.src DESC, y.id DESC LIMIT $4) x ON true"
	" WHERE c.id = $1 AND c.tenant_id = $2"
	" ORDER BY x.at DESC, x.src DESC, x.id DESC";

static const char note_sql[] =
	"INSERT INTO conversation_items AS i (conversation_id, tenant_id, kind, text, account_id)"
	" SELECT c.id, c.tenant_id, 'note', $3, $4 FROM conversations c"
	" WHERE c.id = $1 AND c.tenant_id = $2 RETURNING " ITEM_JSON;

/* on_timeline - timeline_sql answered: the page of items, or a 404 */
static void on_timeline(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_conv_missing(r);
	else /* a conversation without items comes as one NULL row */
		gw_reply_rows(r, res, PQgetisnull(res, 0, 0) ? 0 : PQntuples(res), "items");
}

void gw_timeline_get(struct gw_req *r)
{
	char id[24], tenant[24], fetch[24];
	const char *after;

	if (!gw_inbox_after(r, 3, &after, fetch) || !gw_conv_path(r, id, tenant))
		return;
	gw_query_sql(r, timeline_sql, 4, (const char *const[]){ id, tenant, after, fetch },
		     on_timeline);
}

/* on_note - note_sql answered: the note (201), or a 404 */
static void on_note(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_conv_missing(r);
	else
		gw_reply_raw(r, 201, PQgetvalue(res, 0, 0));
}

void gw_timeline_note(struct gw_req *r)
{
	static const char *const fields[] = { "text", NULL };
	char id[24], tenant[24], account[24];
	const char *text;

	if (!gw_fields_known(r, fields, "a note has only text") ||
	    !gw_field_text(r, "text", 1, 4096, false, &text))
		return;
	if (text == NULL) {
		gw_reply_problem(r, 422, "invalid_field", "text is required", "text");
		return;
	}
	if (!gw_conv_path(r, id, tenant))
		return;
	snprintf(account, sizeof(account), "%lld", (long long)r->account_id);
	gw_query_sql(r, note_sql, 4,
		     (const char *const[]){ id, tenant, text, r->account_id ? account : NULL },
		     on_note);
}
