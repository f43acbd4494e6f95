/*
 * inboxstats.c - the inbox's statistics, read from the timelines (inbox_responses in
 * SQL), nothing stored: GET /v1/conversations/{id}/stats (messages in and out, the
 * people's responses, the first and the average response time) and GET
 * /v1/stats/agents (per account over from..to: replies that answered the user,
 * conversations, average and first response times). A response is a person's message
 * (from the inbox or the forum topic) after unanswered messages of the user; its time
 * is how long the first of those waited.
 */
#include "gatewayd/inbox.h"
#include "gatewayd/validate.h"

static const char conv_sql[] =
	"SELECT json_build_object('conversation_id', c.id,"
	" 'messages_in', (SELECT count(*) FROM conversation_items i"
	"  WHERE i.conversation_id = c.id AND i.kind = 'message'),"
	" 'messages_out', (SELECT count(*) FROM messages m WHERE m.bot_id = c.bot_id"
	"  AND m.chat = c.chat_id::text),"
	" 'responses', r.n, 'first_response_seconds', r.first,"
	" 'average_response_seconds', r.average)"
	" FROM conversations c, LATERAL (SELECT count(*) AS n, min(x.wait_seconds)"
	"  FILTER (WHERE x.first) AS first, avg(x.wait_seconds) AS average"
	"  FROM inbox_responses(c.id) x) r"
	" WHERE c.id = $1 AND c.tenant_id = $2";

/* $2, $3: from and to (default: the last 7 days); the conversations active since from
 * hold every response of the period (a reply moves the activity) */
static const char agents_sql[] =
	"WITH p AS (SELECT coalesce($2::timestamptz, now() - interval '7 days') AS f,"
	"  coalesce($3::timestamptz, now() + interval '1 second') AS t),"
	" x AS (SELECT c.id, r.* FROM p, conversations c, inbox_responses(c.id) r"
	"  WHERE c.tenant_id = $1 AND c.last_activity_at >= p.f AND r.at >= p.f AND r.at < p.t)"
	" SELECT json_build_object('from', p.f, 'to', p.t, 'agents', coalesce((SELECT"
	"  json_agg(json_build_object('account_id', s.account_id, 'email', a.email,"
	"  'responses', s.n, 'conversations', s.convs, 'average_response_seconds', s.average,"
	"  'first_responses', s.firsts, 'average_first_response_seconds', s.first_average)"
	"  ORDER BY s.n DESC, s.account_id)"
	"  FROM (SELECT x.account_id, count(*) AS n, count(DISTINCT x.id) AS convs,"
	"   avg(x.wait_seconds) AS average, count(*) FILTER (WHERE x.first) AS firsts,"
	"   avg(x.wait_seconds) FILTER (WHERE x.first) AS first_average"
	"   FROM x GROUP BY x.account_id) s"
	"  LEFT JOIN accounts a ON a.id = s.account_id), '[]')) FROM p";

void gw_inboxstats_conversation(struct gw_req *r)
{
	gw_conv_query(r, conv_sql);
}

void gw_inboxstats_agents(struct gw_req *r)
{
	const char *from = gw_query(r, "from"), *to = gw_query(r, "to");
	char tenant[24];

	if ((from && !gw_valid_time(from)) || (to && !gw_valid_time(to))) {
		gw_reply_problem(r, 422, "invalid_parameter", "from and to are RFC 3339 times",
				 from && !gw_valid_time(from) ? "from" : "to");
		return;
	}
	gw_tenant_param(r, tenant);
	gw_query_sql(r, agents_sql, 3, (const char *const[]){ tenant, from, to }, gw_on_json);
}
