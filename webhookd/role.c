/*
 * role.c - who may act as a bot's admin in Telegram: the sender's role for the bot
 * (bot_admins, looked up once per job), the refusal when it is not enough (a toast for
 * a button, a catalog text for a message, then the job is done), and the audit rows an
 * admin's actions leave (written by wh_job_done with the update's end; see role.h).
 */
#include "webhookd/job.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

static const char role_sql[] = "SELECT role FROM bot_admins WHERE bot_id = $1 AND user_id = $2";

static const char *const names[] = { "none", "agent", "admin", "owner" };
static const char *const refused[] = { "refused", "refused: needs agent", "refused: needs admin",
				       "refused: needs owner" };

const char *wh_role_name(enum wh_role r)
{
	return (unsigned)r < 4 ? names[r] : "none";
}

enum wh_role wh_role_parse(const char *s)
{
	for (int r = WH_ROLE_AGENT; s && r <= WH_ROLE_OWNER; r++)
		if (strcmp(s, names[r]) == 0)
			return (enum wh_role)r;
	return WH_ROLE_NONE;
}

long long wh_role_sender(const struct wh_job *j)
{
	const char *path[] = { "from", "id", NULL };
	yajl_val id = j->body ? yajl_tree_get(j->body, path, yajl_t_number) : NULL;

	return id && YAJL_IS_INTEGER(id) ? YAJL_GET_INTEGER(id) : 0;
}

/* refuse - tells the sender they may not (a toast for a button, a text in the message's
 * chat and thread), logs it and ends the job */
static void refuse(struct wh_job *j, enum wh_role need)
{
	char text[300];
	const char *vars[] = { "role", wh_role_name(need), NULL };
	int64_t thread = 0;
	yajl_gen g;

	log_info("bot=%lld update=%lld: user %lld (%s) refused: needs %s", (long long)j->bot_id,
		 (long long)j->update_id, wh_role_sender(j), wh_role_name(j->role),
		 wh_role_name(need));
	if (strcmp(j->kind, "callback_query") == 0) {
		g = tgm_jgen_new();
		yajl_gen_map_open(g);
		tgm_jgen_kstr(g, "callback_query_id", tgm_json_get_str(j->body, "id"));
		tgm_jgen_kstr(g, "text", wh_say_admin(j, "not_allowed"));
		yajl_gen_map_close(g);
		wh_reply_direct(j, "answerCallbackQuery", g, wh_reply_direct_done, j->wh);
	} else if (j->msg && j->chat_id) {
		if (tgm_json_get(j->msg, "is_topic_message"))
			tgm_json_get_int(j->msg, "message_thread_id", &thread);
		tgm_text_fill(text, sizeof(text), wh_say_admin(j, "role_refused"), vars);
		wh_reply_text(j, j->chat_id, thread, text, NULL, NULL, 0);
	}
	wh_job_done(j, refused[need]);
}

/* on_role - role_sql answered: the role on the job, then the check again */
static void on_role(struct wh_job *j, PGresult *res, const char *err)
{
	void (*then)(struct wh_job * j) = j->role_then;

	if (err) {
		wh_job_postpone(j, WH_RETRY_SECONDS, err);
		return;
	}
	j->role = PQntuples(res) == 1 ? wh_role_parse(PQgetvalue(res, 0, 0)) : WH_ROLE_NONE;
	j->role_known = true;
	wh_role_need(j, j->role_need, then);
}

void wh_role_need(struct wh_job *j, enum wh_role need, void (*then)(struct wh_job *j))
{
	char p[2][24];
	const char *params[2] = { p[0], p[1] };
	long long sender = wh_role_sender(j);

	if (!j->role_known && sender > 0) {
		j->role_need = need;
		j->role_then = then;
		tgm_i64(p[0], 24, j->bot_id);
		tgm_i64(p[1], 24, sender);
		wh_job_query(j, role_sql, 2, params, on_role);
		return;
	}
	if (!j->role_known) {
		j->role = WH_ROLE_NONE;
		j->role_known = true;
	}
	if (j->role >= need)
		then(j);
	else
		refuse(j, need);
}

void wh_audit(struct wh_job *j, const char *action, const char *target, const char *detail_json)
{
	char actor[24];

	if (j->audit == NULL) {
		j->audit = tgm_jgen_new();
		yajl_gen_array_open(j->audit);
	}
	tgm_i64(actor, sizeof(actor), wh_role_sender(j));
	yajl_gen_map_open(j->audit);
	tgm_jgen_kstr(j->audit, "actor", actor);
	tgm_jgen_kstr(j->audit, "action", action);
	if (target)
		tgm_jgen_kstr(j->audit, "target", target);
	if (detail_json)
		tgm_jgen_kstr(j->audit, "detail", detail_json);
	yajl_gen_map_close(j->audit);
}
