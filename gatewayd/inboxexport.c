/*
 * inboxexport.c - the inbox's CSV exports, streamed (csvstream.c): GET
 * /v1/exports/contacts.csv, the tenant's conversations with their users' names and
 * tags (filters bot_id, tag_id); GET /v1/exports/conversation-messages.csv, the
 * messages of every conversation in a period (since, until; bot_id): first the users'
 * (direction in), then the bots' (direction out, with their status and the agent).
 */
#include "gatewayd/csvstream.h"
#include "gatewayd/inbox.h"
#include "gatewayd/validate.h"
#include "common/util.h"

static const char contacts_sql[] =
	"SELECT c.id, c.bot_id, c.chat_id, coalesce(u.first_name, ''), coalesce(u.last_name, ''),"
	" coalesce(u.username, ''), " GW_CONV_STATE ", coalesce(a.email, ''),"
	" coalesce((SELECT string_agg(t.name, '; ' ORDER BY lower(t.name)) FROM conversation_tags ct"
	"  JOIN tags t ON t.id = ct.tag_id WHERE ct.conversation_id = c.id), ''),"
	" c.unread, c.last_activity_at, c.created_at, c.id"
	" FROM conversations c"
	" LEFT JOIN bot_users u ON u.bot_id = c.bot_id AND u.user_id = c.chat_id"
	" LEFT JOIN accounts a ON a.id = c.assignee_id"
	" WHERE c.tenant_id = $1 AND ($2::bigint IS NULL OR c.bot_id = $2)"
	" AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM conversation_tags ct"
	"  WHERE ct.conversation_id = c.id AND ct.tag_id = $3)) AND c.id > $4::bigint"
	" ORDER BY c.id LIMIT 1000";

static const struct gw_csv_part contacts[] = {
	{ contacts_sql, 12, 1u << 3 | 1u << 4 | 1u << 5 | 1u << 8, "0" },
};

/* $1 tenant, $2 since, $3 until, $4 bot, $5 the cursor (an id) */
static const char in_sql[] =
	"SELECT 'in', i.conversation_id, c.bot_id, c.chat_id, i.at, coalesce(i.text, ''),"
	" coalesce(i.media_kind, ''), '', '', coalesce(i.telegram_message_id::text, ''), i.id"
	" FROM conversation_items i JOIN conversations c ON c.id = i.conversation_id"
	" WHERE i.tenant_id = $1 AND i.kind = 'message' AND i.id > $5::bigint"
	" AND ($2::timestamptz IS NULL OR i.at >= $2) AND ($3::timestamptz IS NULL OR i.at < $3)"
	" AND ($4::bigint IS NULL OR c.bot_id = $4) ORDER BY i.id LIMIT 1000";
static const char out_sql[] =
	"SELECT 'out', c.id, m.bot_id, c.chat_id, m.created_at,"
	" coalesce(m.params->>'text', m.params->>'caption', ''), m.method, m.status,"
	" coalesce((SELECT a.email FROM accounts a WHERE a.id = (m.metadata->>'account')::bigint),"
	"  ''), coalesce(m.telegram_message_id::text, ''), m.id"
	" FROM messages m JOIN conversations c ON c.bot_id = m.bot_id"
	" AND c.chat_id = CASE WHEN m.chat ~ '^[0-9]{1,18}$' THEN m.chat::bigint END"
	" WHERE m.tenant_id = $1 AND m.id > $5::bigint"
	" AND ($2::timestamptz IS NULL OR m.created_at >= $2)"
	" AND ($3::timestamptz IS NULL OR m.created_at < $3)"
	" AND ($4::bigint IS NULL OR m.bot_id = $4) ORDER BY m.id LIMIT 1000";

static const struct gw_csv_part history[] = {
	{ in_sql, 10, 1u << 5, "0" },
	{ out_sql, 10, 1u << 5, "0" },
};

/* id_ok - absent or a positive integer; else a 422 */
static bool id_ok(struct gw_req *r, const char *name, const char **v)
{
	int64_t n;

	*v = gw_query(r, name);
	if (*v == NULL || (tgm_parse_int64(*v, &n) && n > 0))
		return true;
	gw_reply_problem(r, 422, "invalid_parameter", "must be a positive integer", name);
	return false;
}

void gw_inboxexport_contacts(struct gw_req *r)
{
	char tenant[24];
	const char *p[3] = { tenant };

	if (!id_ok(r, "bot_id", &p[1]) || !id_ok(r, "tag_id", &p[2]))
		return;
	gw_tenant_param(r, tenant);
	gw_csv_stream(r, "contacts.csv",
		      "conversation_id,bot_id,user_id,first_name,last_name,"
		      "username,state,assignee,tags,unread,last_activity_at,created_at\r\n",
		      contacts, 1, p, 3);
}

void gw_inboxexport_messages(struct gw_req *r)
{
	char tenant[24];
	const char *p[4] = { tenant, gw_query(r, "since"), gw_query(r, "until") };

	if ((p[1] && !gw_valid_time(p[1])) || (p[2] && !gw_valid_time(p[2]))) {
		gw_reply_problem(r, 422, "invalid_parameter", "since and until are RFC 3339 times",
				 p[1] && !gw_valid_time(p[1]) ? "since" : "until");
		return;
	}
	if (!id_ok(r, "bot_id", &p[3]))
		return;
	gw_tenant_param(r, tenant);
	gw_csv_stream(r, "conversation-messages.csv",
		      "direction,conversation_id,bot_id,chat_id,"
		      "at,text,media_kind_or_method,status,agent,telegram_message_id\r\n",
		      history, 2, p, 4);
}
