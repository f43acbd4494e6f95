/*
 * convupdate.c - working a conversation: PATCH /v1/conversations/{id} sets its state
 * (open, pending, snoozed until snoozed_until, closed), its assignee (an enabled
 * account of the tenant, or null) and its pin (closing or reopening it does the same
 * to the user's forum topic in the admin group), each change an event of the timeline
 * by the caller (state_<state>, assigned, unassigned); POST /v1/conversations/{id}/read
 * marks it read. Both answer the conversation as it is now.
 */
#include "gatewayd/inbox.h"
#include "gatewayd/validate.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

/* $3 state, $4 assignee, $5 snoozed_until, $6 assignee given, $7 pinned. Closing or
 * reopening it closes or reopens the user's forum topic too (queued like a send) */
static const char update_sql[] =
	"WITH a AS (SELECT id FROM accounts WHERE id = $4 AND tenant_id = $2"
	"  AND disabled_at IS NULL),"
	" o AS (SELECT id, state AS was, assignee_id AS was_assignee FROM conversations"
	"  WHERE id = $1 AND tenant_id = $2),"
	" c AS (UPDATE conversations c SET state = coalesce($3, c.state),"
	"  snoozed_until = CASE WHEN $3::text IS NULL THEN c.snoozed_until"
	"   WHEN $3 = 'snoozed' THEN $5::timestamptz END,"
	"  assignee_id = CASE WHEN $6::boolean THEN (SELECT id FROM a) ELSE c.assignee_id END,"
	"  pinned = coalesce($7::boolean, c.pinned)"
	"  FROM o WHERE c.id = o.id AND ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM a))"
	"  RETURNING c.*, o.was, o.was_assignee),"
	/* what changed, as events of the timeline by the caller ($8: NULL for a key) */
	" e AS (INSERT INTO conversation_items (conversation_id, tenant_id, kind, event, account_id)"
	"  SELECT c.id, c.tenant_id, 'event', x.ev, $8 FROM c, LATERAL (VALUES"
	"  (CASE WHEN c.state IS DISTINCT FROM c.was THEN 'state_' || c.state END),"
	"  (CASE WHEN c.assignee_id IS DISTINCT FROM c.was_assignee THEN CASE WHEN"
	"   c.assignee_id IS NULL THEN 'unassigned' ELSE 'assigned' END END)) x(ev)"
	"  WHERE x.ev IS NOT NULL),"
	" t AS (SELECT c.id AS conv, c.bot_id, c.state, tp.admin_chat_id, tp.thread_id"
	"  FROM c JOIN bots b ON b.id = c.bot_id" GW_CONV_TOPIC
	"  WHERE tp.thread_id IS NOT NULL AND (c.state = 'closed') <> (c.was = 'closed')),"
	" q AS (SELECT queue_message(t.bot_id, t.admin_chat_id::text, CASE WHEN t.state = 'closed'"
	"  THEN 'closeForumTopic' ELSE 'reopenForumTopic' END, jsonb_build_object('chat_id',"
	"  t.admin_chat_id, 'message_thread_id', t.thread_id), 0::smallint,"
	"  jsonb_build_object('source', 'inbox', 'conversation', t.conv)) FROM t),"
	" u AS (UPDATE topics tp SET closed_at = CASE WHEN t.state = 'closed' THEN now() END"
	"  FROM t WHERE tp.bot_id = t.bot_id AND tp.admin_chat_id = t.admin_chat_id"
	"  AND tp.thread_id = t.thread_id)"
	" SELECT (SELECT count(*) FROM o), (SELECT " GW_CONV_JSON " FROM c" GW_CONV_JOINS "),"
	" (SELECT bot_id FROM c), (SELECT count(*) FROM q)";

static const char read_sql[] =
	"WITH c AS (UPDATE conversations c SET unread = 0 WHERE c.id = $1 AND c.tenant_id = $2"
	" RETURNING c.*) SELECT " GW_CONV_JSON " FROM c" GW_CONV_JOINS;

static const char *const fields[] = { "state", "snoozed_until", "assignee_id", "pinned", NULL };

/* answer_updated - the conversation; a topic closed or reopened rings its bot's lane */
static void answer_updated(struct gw_req *r, PGresult *res)
{
	int64_t bot = 0;

	if (PQgetvalue(res, 0, 3)[0] != '0' && tgm_parse_int64(PQgetvalue(res, 0, 2), &bot))
		gw_ring(r->gw, bot, false);
	gw_reply_raw(r, 200, PQgetvalue(res, 0, 1));
}

/* on_updated - update_sql answered: the conversation, a 404 when there is none, or a
 * 422 when assignee_id is not an enabled account of the tenant */
static void on_updated(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (PQgetvalue(res, 0, 0)[0] == '0')
		gw_conv_missing(r);
	else if (PQgetisnull(res, 0, 1))
		gw_reply_problem(r, 422, "invalid_field",
				 "assignee_id must be an enabled account of the tenant, or null",
				 "assignee_id");
	else
		answer_updated(r, res);
}

/* read_state - state and snoozed_until: snoozed needs a time, the others none */
static bool read_state(struct gw_req *r, const char **state, const char **until)
{
	bool given;

	*state = tgm_json_get_str(r->body, "state");
	*until = tgm_json_get_str(r->body, "snoozed_until");
	if ((tgm_json_get(r->body, "state") && *state == NULL) ||
	    (*state && strcmp(*state, "open") && strcmp(*state, "pending") &&
	     strcmp(*state, "snoozed") && strcmp(*state, "closed"))) {
		gw_reply_problem(r, 422, "invalid_field",
				 "state must be open, pending, snoozed or closed", "state");
		return false;
	}
	given = tgm_json_get(r->body, "snoozed_until") != NULL;
	if ((*state && !strcmp(*state, "snoozed")) != given ||
	    (given && (*until == NULL || !gw_valid_time(*until)))) {
		gw_reply_problem(r, 422, "invalid_field",
				 "snoozed_until (an RFC 3339 time) goes"
				 " with state snoozed, and only with it",
				 "snoozed_until");
		return false;
	}
	return true;
}

void gw_conversations_update(struct gw_req *r)
{
	char id[24], tenant[24], assignee[24], account[24];
	const char *p[8] = { id, tenant };

	if (!gw_fields_known(r, fields,
			     "a conversation's state, snoozed_until, assignee_id and"
			     " pinned can be changed") ||
	    !read_state(r, &p[2], &p[4]) || !gw_field_id(r, "assignee_id", assignee, &p[3]) ||
	    !gw_field_bool(r, "pinned", &p[6]) || !gw_conv_path(r, id, tenant))
		return;
	p[5] = tgm_json_get(r->body, "assignee_id") ? "true" : "false";
	snprintf(account, sizeof(account), "%lld", (long long)r->account_id);
	p[7] = r->account_id ? account : NULL;
	gw_query_sql(r, update_sql, 8, p, on_updated);
}

void gw_conversations_read(struct gw_req *r)
{
	gw_conv_query(r, read_sql); /* unread set to 0 */
}
