/*
 * admins.c - /admins, the owner's command, in the bot's admin group or a private chat
 * with the bot: alone it lists the bot's admins; "/admins add <user_id> <role>" adds one
 * or changes their role, "/admins remove <user_id>" removes one. Each change is audited
 * in its own statement (WH_AUDIT_SQL). The last owner is neither removed nor demoted
 * here; the API and the dashboard can always add an owner (docs/admins.md).
 */
#include "webhookd/job.h"
#include "common/json.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_MAX 100

static const char list_sql[] =
	"SELECT user_id, role FROM bot_admins WHERE bot_id = $1"
	" ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, user_id LIMIT 100";

/* $1 bot, $2 user, $3 role, $4 actor, $5 update seq: no row when it would demote the
 * last owner */
static const char set_sql[] =
	"WITH s AS (INSERT INTO bot_admins (bot_id, user_id, role, added_by)"
	"  SELECT $1::bigint, $2::bigint, $3::text, 'telegram:' || $4::text"
	"   WHERE $3 = 'owner' OR NOT EXISTS (SELECT 1 FROM bot_admins WHERE bot_id = $1"
	"    AND user_id = $2 AND role = 'owner') OR EXISTS (SELECT 1 FROM bot_admins"
	"    WHERE bot_id = $1 AND role = 'owner' AND user_id <> $2)"
	"  ON CONFLICT (bot_id, user_id) DO UPDATE SET role = EXCLUDED.role RETURNING 1)"
	" SELECT " WH_AUDIT_SQL("$1", "$5", "$4", "'admin.set'", "$2::text",
				"jsonb_build_object('role', $3::text)") " FROM s";

/* $1 bot, $2 user, $3 actor, $4 update seq: the role the user had (NULL: none) and
 * whether they were removed (not the last owner) */
/* clang-format off */
static const char remove_sql[] =
	"WITH d AS (DELETE FROM bot_admins WHERE bot_id = $1::bigint AND user_id = $2::bigint"
	"  AND (role <> 'owner' OR EXISTS (SELECT 1 FROM bot_admins o WHERE o.bot_id = $1"
	"   AND o.role = 'owner' AND o.user_id <> $2)) RETURNING role),"
	" a AS (SELECT " WH_AUDIT_SQL("$1", "$4", "$3", "'admin.remove'", "$2::text",
				    "jsonb_build_object('role', d.role)") " FROM d)"
	" SELECT (SELECT role FROM bot_admins WHERE bot_id = $1 AND user_id = $2),"
	"  (SELECT count(*) FROM a)";
/* clang-format on */

/* say - text in the command's chat (and topic thread), and the job is done */
static void say(struct wh_job *j, const char *text, const char *outcome)
{
	int64_t thread = 0;

	if (tgm_json_get(j->msg, "is_topic_message"))
		tgm_json_get_int(j->msg, "message_thread_id", &thread);
	wh_reply_text(j, j->chat_id, thread, text, NULL, NULL, 0);
	wh_job_done(j, outcome);
}

/* say_user - the catalog's text name with {user_id} (and {role}) filled, then done */
static void say_user(struct wh_job *j, const char *name, const char *role, const char *outcome)
{
	char text[400], user[24];
	const char *vars[] = { "user_id", user, "role", role ? role : "", NULL };

	tgm_i64(user, sizeof(user), j->peer_user);
	say(j, tgm_text_fill(text, sizeof(text), wh_say_admin(j, name), vars), outcome);
}

/* on_list - list_sql answered: one line per admin, "<user id> <role>" */
static void on_list(struct wh_job *j, PGresult *res, const char *err)
{
	char text[4096];
	size_t used;

	if (err) {
		wh_job_postpone(j, WH_RETRY_SECONDS, err);
		return;
	}
	used = (size_t)snprintf(text, sizeof(text), "%s",
				wh_say_admin(j, PQntuples(res) ? "admins_list" : "admins_none"));
	for (int i = 0; i < PQntuples(res) && i < LIST_MAX && used < sizeof(text); i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "\n%s %s",
					 PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	if (used < sizeof(text))
		snprintf(text + used, sizeof(text) - used, "\n\n%s",
			 wh_say_admin(j, "admins_usage"));
	say(j, text, "admin /admins");
}

/* on_set - set_sql answered: the role given, or the last owner kept */
static void on_set(struct wh_job *j, PGresult *res, const char *err)
{
	if (err) {
		wh_job_postpone(j, WH_RETRY_SECONDS, err);
		return;
	}
	if (PQntuples(res) == 0)
		say_user(j, "admins_last_owner", NULL, "admin /admins add: the last owner");
	else
		say_user(j, "admins_added", wh_role_name((enum wh_role)j->peer_thread),
			 "admin /admins add");
}

/* on_removed - remove_sql answered: removed, not an admin, or the last owner kept */
static void on_removed(struct wh_job *j, PGresult *res, const char *err)
{
	if (err) {
		wh_job_postpone(j, WH_RETRY_SECONDS, err);
		return;
	}
	if (PQgetisnull(res, 0, 0))
		say_user(j, "admins_not_admin", NULL, "admin /admins remove: not an admin");
	else if (strcmp(PQgetvalue(res, 0, 1), "0") == 0)
		say_user(j, "admins_last_owner", NULL, "admin /admins remove: the last owner");
	else
		say_user(j, "admins_removed", NULL, "admin /admins remove");
}

/* parse_user - s is a Telegram user id: digits only, positive, an int64 */
static bool parse_user(const char *s, int64_t *out)
{
	return s[strspn(s, "0123456789")] == '\0' && tgm_parse_int64(s, out) && *out > 0;
}

/* admins_run - the owner's /admins: list, add or remove */
static void admins_run(struct wh_job *j)
{
	char name[16], verb[16] = "", user[32] = "", role[16] = "", extra[2] = "";
	char p[5][24];
	const char *params[5] = { p[0], p[1], p[2], p[3], p[4] }, *args = NULL;
	enum wh_role r;

	tgm_tg_command(j->text, j->bot->username, name, sizeof(name), &args);
	if (args)
		sscanf(args, "%15s %31s %15s %1s", verb, user, role, extra);
	tgm_i64(p[0], 24, j->bot_id);
	if (verb[0] == '\0') {
		wh_job_query(j, list_sql, 1, params, on_list);
		return;
	}
	r = wh_role_parse(role);
	if (extra[0] || !parse_user(user, &j->peer_user) ||
	    (strcmp(verb, "add") == 0 && r == WH_ROLE_NONE) ||
	    (strcmp(verb, "remove") == 0 && role[0]) ||
	    (strcmp(verb, "add") != 0 && strcmp(verb, "remove") != 0)) {
		say(j,
		    wh_say_admin(j, strcmp(verb, "add") == 0 && role[0] && r == WH_ROLE_NONE
					    ? "admins_bad_role"
					    : "admins_usage"),
		    "admin /admins: usage");
		return;
	}
	tgm_i64(p[1], 24, j->peer_user);
	if (strcmp(verb, "add") == 0) {
		j->peer_thread = r; /* for on_set's words */
		snprintf(p[2], 24, "%s", wh_role_name(r));
		tgm_i64(p[3], 24, wh_role_sender(j));
		tgm_i64(p[4], 24, j->seq);
		wh_job_query(j, set_sql, 5, params, on_set);
	} else {
		tgm_i64(p[2], 24, wh_role_sender(j));
		tgm_i64(p[3], 24, j->seq);
		wh_job_query(j, remove_sql, 4, params, on_removed);
	}
}

void wh_admins_command(struct wh_job *j)
{
	wh_role_need(j, WH_ROLE_OWNER, admins_run);
}
