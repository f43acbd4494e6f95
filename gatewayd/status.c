/*
 * status.c - reading messages back: GET /v1/messages/{id} with every transition,
 * GET /v1/messages filtered and paged by cursor, and POST /v1/messages/{id}/cancel.
 * Every query is scoped to the key's tenant: another tenant's message is a 404.
 */
#include "gatewayd/gatewayd.h"
#include "gatewayd/choice.h"
#include "gatewayd/validate.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/msgstatus.h"
#include "common/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT 50
#define LIST_MAX 1000

/* the message as JSON, built by PostgreSQL from the row (and its events) */
#define MESSAGE_JSON(events) \
	"json_build_object('id', m.id, 'bot_id', m.bot_id, 'chat_id', m.chat," \
	" 'method', m.method, 'status', m.status," \
	" 'priority', (ARRAY['high','normal','bulk'])[m.priority + 1]," \
	" 'attempts', m.attempts, 'telegram_message_id', m.telegram_message_id," \
	" 'last_error', m.last_error, 'created_at', m.created_at, 'updated_at', m.updated_at," \
	" 'send_at', m.not_before, 'expires_at', m.expires_at, 'sent_at', m.sent_at," \
	" 'callback_url', m.callback_url, 'metadata', m.metadata," \
	" 'text', coalesce(m.params->>'text', m.params->>'caption')" events ")"

/* The acceptance has no event row: the first transition, 'queued', is the row's
 * created_at. An event row of an acceptance made before (status 'queued' at exactly
 * created_at: the same transaction) is left out, so it does not show twice; a later
 * 'queued' (a message given back) always comes from a later transaction. */
/* clang-format off */
static const char get_sql[] =
	"SELECT " MESSAGE_JSON(", 'params', m.params, 'events', (SELECT json_agg("
	"json_build_object('status', e.status, 'at', e.at, 'detail', e.detail) ORDER BY e.id)"
	" FROM (SELECT 0::bigint AS id, 'queued'::text AS status, m.created_at AS at,"
	"  NULL::text AS detail"
	"  UNION ALL SELECT e.id, e.status, e.at, e.detail FROM message_events e"
	"  WHERE e.message_id = m.id AND NOT (e.status = 'queued' AND e.at = m.created_at)) e)")
	" FROM messages m WHERE m.id = $1 AND m.tenant_id = $2";

/* A chat's messages are found through the bots that were given messages for it
 * (bot_chats, kept by sql/009_counters.sql) and the (bot_id, chat, id) index, not by
 * walking the tenant's history. */
#define LIST_SQL(more) \
	"SELECT " MESSAGE_JSON("") ", m.id FROM messages m" \
	" WHERE m.tenant_id = $1 AND ($2::bigint IS NULL OR m.bot_id = $2)" \
	" AND ($3::text IS NULL OR (m.chat = $3" \
	"  AND m.bot_id = ANY(ARRAY(SELECT r.bot_id FROM bot_chats r WHERE r.chat = $3))))" \
	" AND ($4::text IS NULL OR m.status = $4)" more \
	" AND ($5::timestamptz IS NULL OR m.created_at >= $5)" \
	" AND ($6::timestamptz IS NULL OR m.created_at < $6)" \
	" AND ($7::bigint IS NULL OR m.id < $7)" \
	" ORDER BY m.id DESC LIMIT $8"
/* clang-format on */

static const char list_sql[] = LIST_SQL("");

/* a status few messages end in: the literal list lets the planner use the small partial
 * indexes of sql/031_rare_status_indexes.sql instead of walking the whole history */
/* clang-format off */
static const char list_rare_sql[] =
	LIST_SQL(" AND m.status IN ('failed', 'expired', 'canceled')");
/* clang-format on */

/* clang-format off */
static const char cancel_sql[] =
	"WITH c AS (UPDATE messages SET status = 'canceled', updated_at = now()"
	"  WHERE id = $1 AND tenant_id = $2 AND " GW_STILL_QUEUED
	"  RETURNING id, bot_id),"
	" ev AS (INSERT INTO message_events (message_id, status, detail)"
	"  SELECT id, 'canceled', 'canceled through the API' FROM c),"
	" cb AS (SELECT queue_callbacks(array(SELECT id FROM c), 'canceled',"
	"  'canceled through the API'))"
	" SELECT 'canceled', (SELECT bot_id FROM c) FROM c, cb"
	" UNION ALL SELECT status, bot_id FROM messages"
	"  WHERE id = $1 AND tenant_id = $2 AND NOT EXISTS (SELECT 1 FROM c)";
/* clang-format on */

/* on_get - one message with its transitions, or 404 */
static void on_get(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_reply_problem(r, 404, "message_not_found", "no such message", NULL);
	else
		gw_reply_raw(r, 200, PQgetvalue(res, 0, 0));
}

/* message_query - sql on the message of the path ($1) in the tenant ($2), or a 404 */
static void message_query(struct gw_req *r, const char *sql,
			  void (*cb)(struct gw_req *r, PGresult *res, const char *err))
{
	char tenant[24];
	int64_t id;
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };

	if (!gw_path_id(r, "id", &id)) {
		gw_reply_problem(r, 404, "message_not_found", "no such message", NULL);
		return;
	}
	gw_tenant_param(r, tenant);
	gw_query_sql(r, sql, 2, p, cb);
}

void gw_messages_get(struct gw_req *r)
{
	message_query(r, get_sql, on_get);
}

/* on_list - a page of messages */
static void on_list(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else
		gw_reply_rows(r, res, PQntuples(res), "messages");
}

/* list_filter - one optional query parameter, checked; false after answering 422 */
static bool list_filter(struct gw_req *r, const char *name, const char **out, bool integer)
{
	int64_t v;

	*out = gw_query(r, name);
	if (*out && integer && (!tgm_parse_int64(*out, &v) || v <= 0)) {
		gw_reply_problem(r, 422, "invalid_parameter", "must be a positive integer", name);
		return false;
	}
	return true;
}

/* rare_status - s is a status few messages end in (failed, expired, canceled) */
static bool rare_status(const char *s)
{
	return strcmp(s, "failed") == 0 || strcmp(s, "expired") == 0 || strcmp(s, "canceled") == 0;
}

/* valid_status - s names a message status */
static bool valid_status(const char *s)
{
	enum tgm_msg_status st;

	return tgm_msg_status_parse(s, &st);
}

void gw_messages_list(struct gw_req *r)
{
	char tenant[24], lim[24], *chat = NULL;
	const char *p[8] = { tenant };
	int64_t limit = LIST_DEFAULT;

	gw_tenant_param(r, tenant);
	if (!list_filter(r, "bot_id", &p[1], true) || !list_filter(r, "chat_id", &p[2], false) ||
	    !list_filter(r, "status", &p[3], false) || !list_filter(r, "since", &p[4], false) ||
	    !list_filter(r, "until", &p[5], false) || !list_filter(r, "after", &p[6], true) ||
	    !list_filter(r, "limit", &p[7], true))
		return;
	if (p[3] && !valid_status(p[3])) {
		gw_reply_problem(r, 422, "invalid_parameter",
				 "status must be queued, sending,"
				 " retrying, sent, failed, expired or canceled",
				 "status");
		return;
	}
	if ((p[4] && !gw_valid_time(p[4])) || (p[5] && !gw_valid_time(p[5]))) {
		gw_reply_problem(r, 422, "invalid_parameter",
				 "since and until must be RFC 3339"
				 " times like 2026-11-23T12:00:00Z",
				 p[4] && !gw_valid_time(p[4]) ? "since" : "until");
		return;
	}
	if (p[7] && (!tgm_parse_int64(p[7], &limit) || limit > LIST_MAX)) {
		gw_reply_problem(r, 422, "invalid_parameter", "limit must be 1 to 1000", "limit");
		return;
	}
	snprintf(lim, sizeof(lim), "%lld", (long long)limit + 1);
	p[7] = lim;
	r->data = tgm_xmalloc(sizeof(int));
	*(int *)r->data = (int)limit;
	r->data_free = free;
	if (p[2] && p[2][0] == '@') { /* usernames are kept in lower case */
		p[2] = chat = tgm_xstrdup(p[2]);
		for (char *c = chat; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	gw_query_sql(r, p[3] && rare_status(p[3]) ? list_rare_sql : list_sql, 8, p, on_list);
	free(chat);
}

/* on_cancel - a cancel answered: 200 with the message, or why it could not be */
static void on_cancel(struct gw_req *r, PGresult *res, const char *err)
{
	yajl_gen g;
	char detail[96];
	const char *st;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) == 0) {
		gw_reply_problem(r, 404, "message_not_found", "no such message", NULL);
		return;
	}
	st = PQgetvalue(res, 0, 0);
	if (strcmp(st, tgm_msg_status_name(TGM_MSG_CANCELED)) != 0) { /* twice is fine */
		snprintf(detail, sizeof(detail), "the message is %s and can no longer be canceled",
			 st);
		gw_reply_problem(r, 409, "not_cancelable", detail, NULL);
		return;
	}
	gw_choice_stale(r->gw->choice); /* its queue is shorter now */
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "id", strtoll(tgm_http_param(&r->params, "id"), NULL, 10));
	tgm_jgen_kstr(g, "status", tgm_msg_status_name(TGM_MSG_CANCELED));
	yajl_gen_map_close(g);
	gw_reply_json(r, 200, g);
}

void gw_messages_cancel(struct gw_req *r)
{
	message_query(r, cancel_sql, on_cancel);
}
