/*
 * inboxreply.c - POST /v1/conversations/{id}/messages: an agent's reply, its text
 * given or made from a quick reply (its variables filled from the user), optionally
 * answering one of the user's messages. It is queued at `high` priority with
 * metadata source "inbox", the conversation and the account (its copy into the topic
 * through queue_message, like webhookd's replies), the conversation is marked read
 * and active, the quick reply's use counted, and senderd's doorbell rung; the
 * timeline shows its delivery state. When the user has a forum topic in the bot's
 * admin group, a copy marked with the agent's name goes there too (common/text.c's
 * inbox_reply_topic). An Idempotency-Key works as
 * on POST /v1/messages (idem.c): a repeat of the request answers the first reply again.
 */
#include "gatewayd/inbox.h"
#include "gatewayd/idem.h"
#include "gatewayd/validate.h"
#include "common/text.h"
#include "common/uservars.h"
#include "common/utf8.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define TEXT_MAX 4096 /* Telegram's, in UTF-16 code units */

/* $4: the caller's account (NULL: an API key) */
static const char find_sql[] =
	"SELECT c.bot_id, c.chat_id, u.first_name, u.last_name, u.username, q.text,"
	" tp.admin_chat_id, tp.thread_id, (SELECT email FROM accounts WHERE id = $4), b.name,"
	" b.settings"
	" FROM conversations c JOIN bots b ON b.id = c.bot_id" GW_CONV_TOPIC
	" LEFT JOIN bot_users u ON u.bot_id = c.bot_id AND u.user_id = c.chat_id"
	" LEFT JOIN quick_replies q ON q.id = $3 AND q.tenant_id = c.tenant_id"
	" WHERE c.id = $1 AND c.tenant_id = $2";

/* the reply (with its Idempotency-Key $9 and request hash $10 into message_keys first:
 * a key used meanwhile inserts no row, and then no message), and what goes with it
 * once it is in */
static const char queue_sql[] =
	"WITH n AS (SELECT nextval('messages_id_seq'::regclass) AS mid, b.tenant_id, b.id AS bot"
	"  FROM bots b WHERE b.id = $1),"
	" k AS (INSERT INTO message_keys (tenant_id, idempotency_key, message_id, request_hash)"
	"  SELECT n.tenant_id, $9, n.mid, decode($10, 'hex') FROM n WHERE $9::text IS NOT NULL"
	"  ON CONFLICT DO NOTHING RETURNING message_id),"
	" m AS (INSERT INTO messages (id, tenant_id, bot_id, chat, method, params, priority,"
	"  metadata, idempotency_key, request_hash) OVERRIDING SYSTEM VALUE"
	"  SELECT n.mid, n.tenant_id, n.bot, $2, 'sendMessage', $3::jsonb, 0, $4::jsonb, $9,"
	"  decode($10, 'hex') FROM n WHERE $9::text IS NULL OR n.mid IN (SELECT message_id FROM k)"
	"  RETURNING id),"
	" c AS (UPDATE conversations SET last_activity_at = now(), unread = 0 WHERE id = $5"
	"  AND EXISTS (SELECT 1 FROM m) RETURNING id),"
	" q AS (UPDATE quick_replies SET uses = uses + 1 WHERE id = $6"
	"  AND EXISTS (SELECT 1 FROM m) RETURNING id),"
	" t AS (SELECT queue_message($1::bigint, $7, 'sendMessage', $8::jsonb, 0::smallint,"
	"  $4::jsonb || '{\"topic\":true}') FROM m WHERE $7::text IS NOT NULL)"
	" SELECT m.id, (SELECT count(*) FROM c), (SELECT count(*) FROM q),"
	" (SELECT count(*) FROM t) FROM m";

/* a reply between its two statements */
struct reply {
	char conv[24], quick[24], reply_to[24];
	const char *quick_id, *reply_to_id, *text;
	int64_t bot_id;
	char *made;    /* the text made from a quick reply */
	char hash[65]; /* the request's, with an Idempotency-Key */
};

/* reply_free - frees a reply and the text made from its quick reply */
static void reply_free(void *p)
{
	struct reply *rp = p;

	free(rp->made);
	free(rp);
}

/* on_replay - the Idempotency-Key's message (idem.c's row): the first answer again */
static void on_replay(struct gw_req *r, PGresult *res)
{
	gw_idem_queued(r, PQgetvalue(res, 0, 0), "text", PQgetvalue(res, 0, 2));
}

/* on_queued - queue_sql answered: rings the bot's doorbell and answers; no row: the
 * Idempotency-Key was used meanwhile, its message answers */
static void on_queued(struct gw_req *r, PGresult *res, const char *err)
{
	struct reply *rp = r->data;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) == 0) {
		gw_idem_find(r, rp->hash, on_replay, NULL);
		return;
	}
	gw_ring(r->gw, rp->bot_id, false);
	gw_idem_queued(r, PQgetvalue(res, 0, 0), "text", rp->text);
}

/* params_json - sendMessage's parameters (thread: a topic's, or NULL), caller frees */
static char *params_json(const char *chat, const char *thread, const char *text,
			 const char *reply_to)
{
	yajl_gen g = tgm_jgen_new();
	int64_t n = 0;
	char *out;

	yajl_gen_map_open(g);
	tgm_parse_int64(chat, &n);
	tgm_jgen_kint(g, "chat_id", n);
	if (thread && tgm_parse_int64(thread, &n))
		tgm_jgen_kint(g, "message_thread_id", n);
	tgm_jgen_kstr(g, "text", text);
	if (reply_to && tgm_parse_int64(reply_to, &n)) {
		tgm_jgen_key(g, "reply_parameters");
		yajl_gen_map_open(g);
		tgm_jgen_kint(g, "message_id", n);
		tgm_jgen_kbool(g, "allow_sending_without_reply", true);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	out = tgm_xstrdup(tgm_jgen_text(g, NULL));
	yajl_gen_free(g);
	return out;
}

/* topic_params - the copy into the user's topic (row 0 of res found it), or NULL */
static char *topic_params(const struct reply *rp, PGresult *res)
{
	char text[TEXT_MAX + 1];

	if (PQgetisnull(res, 0, 7))
		return NULL;
	gw_topiccopy(text, sizeof(text), PQgetvalue(res, 0, 10),
		     PQgetisnull(res, 0, 8) ? NULL : PQgetvalue(res, 0, 8), rp->text);
	return params_json(PQgetvalue(res, 0, 6), PQgetvalue(res, 0, 7), text, NULL);
}

/* queue - the reply's text is known and checked: queue it (and its copy) */
static void queue(struct gw_req *r, PGresult *res)
{
	struct reply *rp = r->data;
	char bot[24], *params, *meta, *topic = topic_params(rp, res);
	const char *chat = PQgetvalue(res, 0, 1);

	snprintf(bot, sizeof(bot), "%lld", (long long)rp->bot_id);
	params = params_json(chat, NULL, rp->text, rp->reply_to_id);
	meta = r->account_id ? tgm_xasprintf("{\"source\":\"inbox\",\"conversation\":%s,"
					     "\"account\":%lld}",
					     rp->conv, (long long)r->account_id)
			     : tgm_xasprintf("{\"source\":\"inbox\",\"conversation\":%s,"
					     "\"key\":%lld}",
					     rp->conv, (long long)r->key_id);
	gw_query_sql(r, queue_sql, 10,
		     (const char *const[]){ bot, chat, params, meta, rp->conv, rp->quick_id,
					    topic ? PQgetvalue(res, 0, 6) : NULL, topic,
					    rp->hash[0] ? r->idem_key : NULL,
					    rp->hash[0] ? rp->hash : NULL },
		     on_queued);
	free(params);
	free(meta);
	free(topic);
}

/* on_found - find_sql answered: makes the text from the quick reply when none was
 * given, checks its length and queues it; a 404 or 422 otherwise */
static void on_found(struct gw_req *r, PGresult *res, const char *err)
{
	struct reply *rp = r->data;
	size_t n;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) == 0) {
		gw_conv_missing(r);
		return;
	}
	if (rp->quick_id && PQgetisnull(res, 0, 5)) {
		gw_reply_problem(r, 422, "invalid_field", "no such quick reply", "quick_reply_id");
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 0), &rp->bot_id);
	if (rp->text == NULL)
		rp->text = rp->made = tgm_uservars_fill(
			PQgetvalue(res, 0, 5),
			&(struct tgm_uservars){ PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
						PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 9),
						strtoll(PQgetvalue(res, 0, 1), NULL, 10) });
	n = tgm_utf16_length(rp->text);
	if (n == 0 || n > TEXT_MAX) {
		gw_reply_problem(r, 422, "invalid_field",
				 "the text must be 1 to 4096 characters"
				 " (UTF-16 code units, as Telegram counts)",
				 "text");
		return;
	}
	queue(r, res);
}

/* read_reply - the body: text or quick_reply_id, and reply_to_message_id */
static bool read_reply(struct gw_req *r, struct reply *rp)
{
	static const char *const fields[] = { "text", "quick_reply_id", "reply_to_message_id",
					      NULL };

	if (!gw_fields_known(r, fields,
			     "a reply has text, quick_reply_id and"
			     " reply_to_message_id") ||
	    !gw_field_text(r, "text", 1, TEXT_MAX, false, &rp->text) ||
	    !gw_field_id(r, "quick_reply_id", rp->quick, &rp->quick_id) ||
	    !gw_field_id(r, "reply_to_message_id", rp->reply_to, &rp->reply_to_id))
		return false;
	if ((rp->text == NULL) == (rp->quick_id == NULL)) {
		gw_reply_problem(r, 422, "invalid_field",
				 "give text or quick_reply_id (one of them)", "text");
		return false;
	}
	return true;
}

/* find - the conversation, the user, the quick reply and the topic */
static void find(struct gw_req *r)
{
	struct reply *rp = r->data;
	char tenant[24], account[24];

	gw_tenant_param(r, tenant);
	snprintf(account, sizeof(account), "%lld", (long long)r->account_id);
	gw_query_sql(r, find_sql, 4,
		     (const char *const[]){ rp->conv, tenant, rp->quick_id,
					    r->account_id ? account : NULL },
		     on_found);
}

void gw_inbox_reply(struct gw_req *r)
{
	struct reply *rp = tgm_xcalloc(1, sizeof(*rp));
	char tenant[24], scope[64];

	r->data = rp;
	r->data_free = reply_free;
	if (!read_reply(r, rp) || !gw_conv_path(r, rp->conv, tenant))
		return;
	if (r->idem_key[0] == '\0') {
		find(r);
		return;
	}
	snprintf(scope, sizeof(scope), "/v1/conversations/%s/messages", rp->conv);
	gw_idem_hash(r->body, scope, rp->hash);
	gw_idem_find(r, rp->hash, on_replay, find);
}
