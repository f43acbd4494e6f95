/*
 * inbox.h - what the inbox's routes share (conversations.c, convupdate.c, timeline.c,
 * inboxreply.c, tags.c, quickreplies.c, inboxfield.c): the JSON of a conversation as
 * SQL builds it, the checks of body fields and query parameters, and the handlers.
 */
#ifndef GW_INBOX_H
#define GW_INBOX_H

#include "gatewayd/gatewayd.h"

/* a conversation c (with u its bot_users row and ch its chats row, LEFT JOINed) as JSON;
 * a snoozed one whose time has passed reads as open */
#define GW_CONV_STATE \
	"CASE WHEN c.state = 'snoozed' AND c.snoozed_until <= now() THEN 'open' ELSE c.state END"
#define GW_CONV_TAGS \
	"(SELECT coalesce(json_agg(json_build_object('id', t.id, 'name', t.name," \
	" 'color', t.color) ORDER BY lower(t.name)), '[]') FROM conversation_tags ct" \
	" JOIN tags t ON t.id = ct.tag_id WHERE ct.conversation_id = c.id)"
#define GW_CONV_JSON \
	"json_build_object('id', c.id, 'bot_id', c.bot_id, 'chat_id', c.chat_id," \
	" 'contact', json_build_object('user_id', c.chat_id, 'first_name', u.first_name," \
	"  'last_name', u.last_name, 'username', u.username, 'language_code', u.language_code)," \
	" 'blocked', ch.blocked_at IS NOT NULL, 'state', " GW_CONV_STATE "," \
	" 'snoozed_until', CASE WHEN c.snoozed_until > now() THEN c.snoozed_until END," \
	" 'assignee_id', c.assignee_id, 'pinned', c.pinned, 'unread', c.unread," \
	" 'last_activity_at', c.last_activity_at, 'last_inbound_at', c.last_inbound_at," \
	" 'last_text', c.last_text, 'tags', " GW_CONV_TAGS ", 'created_at', c.created_at)"
#define GW_CONV_JOINS \
	" LEFT JOIN bot_users u ON u.bot_id = c.bot_id AND u.user_id = c.chat_id" \
	" LEFT JOIN chats ch ON ch.bot_id = c.bot_id AND ch.chat_id = c.chat_id"

/* the user's topic t in the bot b's admin group now (LEFT JOIN after c and b) */
#define GW_CONV_TOPIC \
	" LEFT JOIN topics tp ON tp.bot_id = c.bot_id AND tp.user_id = c.chat_id" \
	" AND tp.thread_id IS NOT NULL AND jsonb_typeof(b.settings->'admin_chat_id') = 'number'" \
	" AND tp.admin_chat_id = (b.settings->>'admin_chat_id')::bigint"

/* inboxfield.c */
/* gw_fields_known - every key of the body is one of names (NULL-ended); else a 422
 * unknown_field naming the first other one, and false */
bool gw_fields_known(struct gw_req *r, const char *const *names, const char *which);
/* gw_field_text - the body's string field of min..max characters (NULL when absent;
 * null is absent too when nullable): false after a 422 invalid_field */
bool gw_field_text(struct gw_req *r, const char *name, int min, int max, bool nullable,
		   const char **out);
/* gw_field_id - the body's positive integer field into buf (absent or null: *out NULL);
 * false after a 422 */
bool gw_field_id(struct gw_req *r, const char *name, char buf[24], const char **out);
/* gw_field_bool - "true", "false" or NULL (absent); false after a 422 */
bool gw_field_bool(struct gw_req *r, const char *name, const char **out);
/* gw_conv_path - the conversation {id} of the path and the tenant as parameters; false
 * after a 404 conversation_not_found */
bool gw_conv_path(struct gw_req *r, char id[24], char tenant[24]);
/* gw_conv_missing - a 404 conversation_not_found */
void gw_conv_missing(struct gw_req *r);
/* gw_conv_query - sql over the conversation {id} of the path ($1) and the tenant ($2)
 * answers its one JSON value; a 404 when the id is bad or sql gives no row */
void gw_conv_query(struct gw_req *r, const char *sql);
/* gw_inbox_after - the query's after cursor of n integers joined by '.', and limit
 * (1-200, default 50), kept in r->data as gw_reply_rows wants; false after a 422 */
bool gw_inbox_after(struct gw_req *r, int n, const char **after, char fetch[24]);
/* gw_sqlstate_is - the failed statement's SQLSTATE is state */
bool gw_sqlstate_is(PGresult *res, const char *state);

void gw_agents_list(struct gw_req *r);
void gw_inboxstats_conversation(struct gw_req *r);
void gw_inboxstats_agents(struct gw_req *r);
void gw_inboxmedia_get(struct gw_req *r);
void gw_inboxexport_contacts(struct gw_req *r);
void gw_inboxexport_messages(struct gw_req *r);
void gw_conversations_list(struct gw_req *r);
void gw_conversations_get(struct gw_req *r);
void gw_conversations_update(struct gw_req *r);
void gw_conversations_read(struct gw_req *r);
void gw_timeline_get(struct gw_req *r);
void gw_timeline_note(struct gw_req *r);
void gw_inbox_reply(struct gw_req *r);
void gw_inboxupload(struct gw_req *r);
void gw_tags_list(struct gw_req *r);
void gw_tags_create(struct gw_req *r);
void gw_tags_update(struct gw_req *r);
void gw_tags_delete(struct gw_req *r);
void gw_tags_attach(struct gw_req *r);
void gw_tags_detach(struct gw_req *r);
void gw_quickreplies_list(struct gw_req *r);
void gw_quickreplies_create(struct gw_req *r);
void gw_quickreplies_update(struct gw_req *r);
void gw_quickreplies_delete(struct gw_req *r);

/* gw_topiccopy - into out, the words of a reply's copy in the user's topic: text (NULL:
 * a file without a caption) marked with agent (NULL: a reply made with an API key), in
 * the bot's language (settings: the bot's settings as JSON, or NULL) */
void gw_topiccopy(char *out, size_t len, const char *settings, const char *agent, const char *text);

#endif
