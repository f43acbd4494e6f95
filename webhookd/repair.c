/*
 * repair.c - the topics' failed copies: a copy into a topic that is gone ("message
 * thread not found") or to a user who blocked the bot becomes one of webhookd's own
 * updates (the sweep, once each: update_id = -message id). Processed, a lost topic is
 * forgotten, made again and the copy resent; an undelivered copy is told in the topic.
 */
#include "webhookd/job.h"
#include "common/botset.h"
#include "common/json.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/text.h"
#include "common/util.h"

#include <string.h>

static const char topic_lost_sql[] =
	"DELETE FROM topics WHERE bot_id = $1 AND user_id = $2 AND admin_chat_id = $3"
	" AND thread_id = $4";

/* failed bridge copies become webhookd's own updates, once each (update_id = -msg id) */
static const char sweep_sql[] =
	"INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)"
	" SELECT m.bot_id, -m.id, (m.metadata->>'user')::bigint, k.kind,"
	"  jsonb_build_object('update_id', -m.id, k.kind, jsonb_build_object('message', m.id,"
	"   'user', (m.metadata->>'user')::bigint, 'thread', (m.metadata->>'thread')::bigint,"
	"   'from_chat_id', m.params->'from_chat_id', 'message_id', m.params->'message_id',"
	"   'error', m.last_error))"
	" FROM messages m, LATERAL (SELECT CASE WHEN m.metadata->>'bridge' = 'topic'"
	"  THEN 'tgm_topic_lost' ELSE 'tgm_undelivered' END AS kind) k"
	" WHERE m.status = 'failed' AND m.metadata ? 'bridge'"
	"  AND m.updated_at > now() - interval '1 day'"
	"  AND ((m.metadata->>'bridge' = 'topic' AND m.last_error LIKE '%thread not found%')"
	"   OR (m.metadata->>'bridge' = 'user' AND (m.last_error LIKE '%Forbidden%'"
	"    OR m.last_error LIKE 'chat blocked%')))"
	" ON CONFLICT (bot_id, update_id) DO NOTHING";

/* copy_again - the topic is made again: queues the lost copy (from_chat_id and
 * message_id of the tgm_topic_lost update) into its new thread, and ends the job */
static void copy_again(struct wh_job *j, int64_t thread)
{
	const char *path[] = { "tgm_topic_lost", NULL };
	yajl_val lost = yajl_tree_get(j->update, path, yajl_t_object);
	int64_t from = 0, mid = 0;

	tgm_json_get_int(lost, "from_chat_id", &from);
	tgm_json_get_int(lost, "message_id", &mid);
	wh_reply_begin(j, wh_topic_admin(j), "copyMessage", thread);
	tgm_jgen_kint(j->replies, "from_chat_id", from);
	tgm_jgen_kint(j->replies, "message_id", mid);
	wh_reply_end_bridge(j, "topic", j->user_id, thread);
	wh_job_done(j, "topic made again, message resent");
}

/* on_lost - topic_lost_sql answered (the lost topic forgotten): makes the topic again
 * and resends the copy (copy_again); postpones on a database error */
static void on_lost(struct wh_job *j, PGresult *res, const char *err)
{
	(void)res;
	if (err)
		wh_job_postpone(j, WH_RETRY_SECONDS, err);
	else
		wh_topic_with(j, j->user_id, copy_again);
}

void wh_repair_internal(struct wh_job *j)
{
	int64_t thread = 0;
	char p[4][24];
	const char *params[4] = { p[0], p[1], p[2], p[3] };

	tgm_json_get_int(j->body, "user", &j->user_id);
	tgm_json_get_int(j->body, "thread", &thread);
	if (wh_topic_admin(j) == 0 || j->user_id == 0) {
		wh_job_done(j, "ignored: the bot has no admin group now");
	} else if (strcmp(j->kind, "tgm_topic_lost") == 0) {
		tgm_i64(p[0], 24, j->bot->id);
		tgm_i64(p[1], 24, j->user_id);
		tgm_i64(p[2], 24, wh_topic_admin(j));
		tgm_i64(p[3], 24, thread);
		wh_job_query(j, topic_lost_sql, 4, params, on_lost);
	} else {
		wh_topic_say(j, thread, wh_say_admin(j, "not_delivered"));
		wh_job_done(j, "reported in the topic: not delivered");
	}
}

/* on_swept - sweep_sql answered: wakes the processing when failed copies became
 * updates */
static void on_swept(PGresult *res, const char *err, void *arg)
{
	struct webhookd *wh = arg;

	wh->inflight--;
	if (err)
		log_warn("bridge sweep: %s", err);
	else if (strcmp(PQcmdTuples(res), "0") != 0)
		wh_process_kick(wh);
}

void wh_repair_sweep(struct webhookd *wh)
{
	wh->inflight++;
	tgm_pg_query(wh->ctx->db, sweep_sql, 0, NULL, on_swept, wh);
}
