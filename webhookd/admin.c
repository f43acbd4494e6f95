/*
 * admin.c - the admin group's side of a user's topic: what an admin writes there is
 * copied to the user (copyMessage, through the outbound queue); a command runs on the
 * topic's user (/info, /ban, /unban, /gift N, /close, /reopen, which also closes or
 * reopens the user's conversation in the inbox); the info card's buttons do the same
 * as Info and Ban, and tell how to gift. Each needs the sender's role first (role.c):
 * an agent answers, /info, /close, /reopen; an admin also bans, unbans and gifts; the
 * changes are audited. /admins goes to admins.c wherever it is written in the group.
 */
#include "webhookd/job.h"
#include "common/botset.h"
#include "common/json.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char topic_user_sql[] =
	"SELECT user_id FROM topics WHERE bot_id = $1 AND admin_chat_id = $2 AND thread_id = $3";

static const char ban_sql[] =
	"UPDATE bot_users SET banned_at = CASE WHEN $3 THEN coalesce(banned_at, now()) END"
	" WHERE bot_id = $1 AND user_id = $2";

/* audited with the gift ($5 the update's seq, $6 the admin) */
/* clang-format off */
static const char gift_sql[] =
	"SELECT balance, " WH_AUDIT_SQL("$1", "$5", "$6", "'user.gift'", "$2::text",
					"jsonb_build_object('credits', $4::bigint)") ","
	" (SELECT u.language_code FROM bot_users u WHERE u.bot_id = $1 AND u.user_id = $2)"
	" FROM ledger_apply($1::bigint, $2::bigint, 'gift:' || $3::text, 'gift',"
	" $4::bigint, p_reason => 'gift by an admin')";

/* the topic, and the user's conversation in the inbox with it ($5: the update) */
static const char close_sql[] =
	"WITH t AS (UPDATE topics SET closed_at = CASE WHEN $4::boolean THEN now() END"
	"  WHERE bot_id = $1 AND admin_chat_id = $2 AND thread_id = $3 RETURNING bot_id, user_id)"
	WH_INBOX_CLOSE_SQL("$4::boolean", "$5::bigint");
/* clang-format on */

/* copy_to_user - queues a copy of the admin's message to the topic's user (bridge "user"),
 * reacted to once sent; the user sees the bot typing meanwhile */
static void copy_to_user(struct wh_job *j)
{
	int64_t mid = 0, user = j->peer_user, thread = j->peer_thread;

	yajl_gen g = tgm_jgen_new();

	/* the user sees "typing…" while the answer is on its way (a direct call: now) */
	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "chat_id", user);
	tgm_jgen_kstr(g, "action", "typing");
	yajl_gen_map_close(g);
	wh_reply_direct(j, "sendChatAction", g, wh_reply_direct_done, j->wh);
	tgm_json_get_int(j->msg, "message_id", &mid);
	wh_reply_begin(j, user, "copyMessage", 0);
	tgm_jgen_kint(j->replies, "from_chat_id", j->chat_id);
	tgm_jgen_kint(j->replies, "message_id", mid);
	wh_reply_end_react(j, user, thread, mid);
	wh_job_done(j, "relayed to the user");
}

/* on_info - wh_topic_card_sql answered for /info (or the Info button): the user's card in the
 * topic, or "no such user" */
static void on_info(struct wh_job *j, PGresult *res, const char *err)
{
	char text[1024];

	if (err || PQntuples(res) != 1) {
		wh_topic_say(j, j->peer_thread, wh_say_admin(j, "no_such_user"));
	} else {
		wh_topic_card_text(j, res, j->peer_user, text, sizeof(text));
		wh_topic_say(j, j->peer_thread, text);
	}
	wh_job_done(j, "admin /info");
}

/* on_banned - ban_sql answered: says in the topic that the user is banned or unbanned;
 * postpones on a database error */
static void on_banned(struct wh_job *j, PGresult *res, const char *err)
{
	bool ban = j->text && strncmp(j->text, "/ban", 4) == 0;
	char user[24];

	(void)res;
	if (err) {
		wh_job_postpone(j, WH_RETRY_SECONDS, err);
		return;
	}
	tgm_i64(user, sizeof(user), j->peer_user);
	wh_audit(j, ban ? "user.ban" : "user.unban", user, NULL);
	wh_topic_say(j, j->peer_thread, wh_say_admin(j, ban ? "user_banned" : "user_unbanned"));
	wh_job_done(j, ban ? "admin /ban" : "admin /unban");
}

/* on_gifted - gift_sql answered: tells the topic and the user the credits given, or the
 * topic that the gift failed */
static void on_gifted(struct wh_job *j, PGresult *res, const char *err)
{
	char text[200], credits[64], lang[TGM_TEXT_LANG];
	const char *vars[] = { "credits", NULL, NULL };

	if (err || PQntuples(res) != 1) {
		wh_topic_say(j, j->peer_thread, wh_say_admin(j, "gift_failed"));
		wh_job_done(j, "admin /gift failed");
		return;
	}
	vars[1] = wh_reply_credits(j, j->admin_lang, credits, sizeof(credits),
				   PQgetvalue(res, 0, 0));
	wh_topic_say(j, j->peer_thread,
		     tgm_text_fill(text, sizeof(text), wh_say_admin(j, "gift_sent"), vars));
	/* to the user, in their language */
	tgm_text_lang(j->bot->settings, PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2),
		      lang);
	vars[1] = wh_reply_credits(j, lang, credits, sizeof(credits), PQgetvalue(res, 0, 0));
	tgm_text_fill(text, sizeof(text), tgm_text_bot(j->bot->settings, "gift_received", lang),
		      vars);
	wh_reply_text(j, j->peer_user, 0, text, NULL, NULL, 0);
	wh_job_done(j, "admin /gift");
}

/* on_closed - close_sql answered: closes or reopens the forum topic itself
 * (closeForumTopic, reopenForumTopic) */
static void on_closed(struct wh_job *j, PGresult *res, const char *err)
{
	bool close = j->text && strncmp(j->text, "/close", 6) == 0;
	yajl_gen g;
	char user[24], detail[48];

	(void)res;
	if (err) {
		wh_job_postpone(j, WH_RETRY_SECONDS, err);
		return;
	}
	tgm_i64(user, sizeof(user), j->peer_user);
	snprintf(detail, sizeof(detail), "{\"thread\": %lld}", (long long)j->peer_thread);
	wh_audit(j, close ? "topic.close" : "topic.reopen", user, detail);
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "chat_id", wh_topic_admin(j));
	tgm_jgen_kint(g, "message_thread_id", j->peer_thread);
	yajl_gen_map_close(g);
	wh_reply_direct(j, close ? "closeForumTopic" : "reopenForumTopic", g, wh_reply_direct_done,
			j->wh);
	wh_job_done(j, close ? "admin /close" : "admin /reopen");
}

/* command_need - the role a topic command needs: /ban, /unban and /gift an admin's,
 * the others (and the help) an agent's */
static enum wh_role command_need(const char *text)
{
	char word[16] = "";

	sscanf(text, "/%15[a-z]", word);
	if (strcmp(word, "ban") == 0 || strcmp(word, "unban") == 0 || strcmp(word, "gift") == 0)
		return WH_ROLE_ADMIN;
	return WH_ROLE_AGENT;
}

/* admin_command - runs an admin's command in the topic of j->peer_user: /info, /ban,
 * /unban, /gift N, /close, /reopen; anything else gets the help text */
static void admin_command(struct wh_job *j)
{
	char p[6][24], word[16] = "";
	const char *params[6] = { p[0], p[1], p[2], p[3], p[4], p[5] };
	long long n = 0;
	int64_t user = j->peer_user, thread = j->peer_thread;

	tgm_i64(p[0], 24, j->bot->id);
	tgm_i64(p[1], 24, user);
	sscanf(j->text, "/%15[a-z]", word);
	if (strcmp(word, "info") == 0) {
		wh_job_query(j, wh_topic_card_sql, 2, params, on_info);
	} else if (strcmp(word, "ban") == 0 || strcmp(word, "unban") == 0) {
		snprintf(p[2], 24, "%s", word[0] == 'b' ? "t" : "f");
		wh_job_query(j, ban_sql, 3, params, on_banned);
	} else if (strcmp(word, "gift") == 0 && sscanf(j->text, "/gift %lld", &n) == 1 && n > 0 &&
		   n <= 1000000) {
		tgm_i64(p[2], 24, j->update_id);
		tgm_i64(p[3], 24, n);
		tgm_i64(p[4], 24, j->seq);
		tgm_i64(p[5], 24, wh_role_sender(j));
		wh_job_query(j, gift_sql, 6, params, on_gifted);
	} else if (strcmp(word, "close") == 0 || strcmp(word, "reopen") == 0) {
		tgm_i64(p[1], 24, wh_topic_admin(j));
		tgm_i64(p[2], 24, thread);
		snprintf(p[3], 24, "%s", word[0] == 'c' ? "t" : "f");
		tgm_i64(p[4], 24, j->seq);
		wh_job_query(j, close_sql, 5, params, on_closed);
	} else {
		wh_topic_say(j, thread, wh_say_admin(j, "admin_help"));
		wh_job_done(j, "admin command unknown");
	}
}

/* on_topic_user - topic_user_sql answered for an admin's message: runs a command, or
 * copies the message to the topic's user, each for the role it needs (an agent's at
 * least); ignores other topics and service messages */
static void on_topic_user(struct wh_job *j, PGresult *res, const char *err)
{
	int64_t user = 0, thread = 0;

	if (err) {
		wh_job_postpone(j, WH_RETRY_SECONDS, err);
		return;
	}
	if (PQntuples(res) != 1) {
		wh_job_done(j, "ignored: not a user's topic");
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 0), &user);
	tgm_json_get_int(j->msg, "message_thread_id", &thread);
	j->peer_user = user;
	j->peer_thread = thread;
	if (j->text && j->text[0] == '/')
		wh_role_need(j, command_need(j->text), admin_command);
	else if (wh_relay_copyable(j->msg))
		wh_role_need(j, WH_ROLE_AGENT, copy_to_user);
	else
		wh_job_done(j, "ignored: a service message");
}

/* answer - answerCallbackQuery for the button pressed, with text as its toast (NULL:
 * none); a direct call, so the button stops spinning at once */
static void answer(struct wh_job *j, const char *text)
{
	yajl_gen g = tgm_jgen_new();

	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "callback_query_id", tgm_json_get_str(j->body, "id"));
	if (text)
		tgm_jgen_kstr(g, "text", text);
	yajl_gen_map_close(g);
	wh_reply_direct(j, "answerCallbackQuery", g, wh_reply_direct_done, j->wh);
}

/* on_button_user - topic_user_sql answered for a card button: Ban bans, Info shows the
 * card, Gift tells how; a button outside its user's topic is refused */
static void on_button_user(struct wh_job *j, PGresult *res, const char *err)
{
	char p[3][24], action[16] = "";
	const char *params[3] = { p[0], p[1], p[2] };
	long long user = 0;

	sscanf(tgm_json_get_str(j->body, "data"), "%15[a-z]:%lld", action, &user);
	if (err || PQntuples(res) != 1 || strtoll(PQgetvalue(res, 0, 0), NULL, 10) != user) {
		answer(j, wh_say_admin(j, "topic_not_users"));
		wh_job_done(j, "ignored: a button outside its user's topic");
		return;
	}
	j->peer_user = user;
	tgm_i64(p[0], 24, j->bot->id);
	tgm_i64(p[1], 24, user);
	if (strcmp(action, "ban") == 0) {
		answer(j, "Banned");
		snprintf(p[2], 24, "t");
		j->text = "/ban";
		wh_job_query(j, ban_sql, 3, params, on_banned);
	} else if (strcmp(action, "info") == 0) {
		answer(j, NULL);
		wh_job_query(j, wh_topic_card_sql, 2, params, on_info);
	} else {
		answer(j, wh_say_admin(j, "gift_how"));
		wh_job_done(j, "admin button gift");
	}
}

/* button_lookup - the sender may press the button: finds the user of the topic it was
 * pressed in (topic_user_sql, on_button_user); ignores unknown buttons */
static void button_lookup(struct wh_job *j)
{
	const char *thread_path[] = { "message", "message_thread_id", NULL };
	const char *chat_path[] = { "message", "chat", "id", NULL };
	yajl_val t = yajl_tree_get(j->body, thread_path, yajl_t_number);
	yajl_val chat = yajl_tree_get(j->body, chat_path, yajl_t_number);
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };

	if (t == NULL || chat == NULL || YAJL_GET_INTEGER(chat) != wh_topic_admin(j) ||
	    tgm_json_get_str(j->body, "data") == NULL) {
		answer(j, NULL);
		wh_job_done(j, "ignored: an unknown button");
		return;
	}
	j->peer_thread = YAJL_GET_INTEGER(t);
	tgm_i64(p[0], 24, j->bot->id);
	tgm_i64(p[1], 24, wh_topic_admin(j));
	tgm_i64(p[2], 24, j->peer_thread);
	wh_job_query(j, topic_user_sql, 3, params, on_button_user);
}

/* outside_topics - a message in the admin group outside the users' topics, neither the
 * menu's command nor an answer to its prompt */
static void outside_topics(struct wh_job *j)
{
	wh_job_done(j, "ignored: not a message in a topic");
}

/* card_button - a press on an info card's button (or data made to look like one): Ban
 * and Gift need an admin, Info an agent, checked before anything else */
static void card_button(struct wh_job *j)
{
	const char *data = tgm_json_get_str(j->body, "data");

	if (data && (strncmp(data, "ban:", 4) == 0 || strncmp(data, "gift:", 5) == 0))
		wh_role_need(j, WH_ROLE_ADMIN, button_lookup);
	else if (data && strncmp(data, "info:", 5) == 0)
		wh_role_need(j, WH_ROLE_AGENT, button_lookup);
	else
		button_lookup(j);
}

/* admins_command - the text is /admins (for this bot) */
static bool admins_command(const struct wh_job *j)
{
	char name[16];

	return j->text && tgm_tg_command(j->text, j->bot->username, name, sizeof(name), NULL) &&
	       strcmp(name, "admins") == 0;
}

void wh_admin_message(struct wh_job *j)
{
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };
	const char *from[] = { "from", "is_bot", NULL };
	yajl_val is_bot;
	int64_t thread = 0;

	if (strcmp(j->kind, "callback_query") == 0) {
		card_button(j);
		return;
	}
	is_bot = yajl_tree_get(j->msg, from, yajl_t_true);
	if (strcmp(j->kind, "message") == 0 && !is_bot && admins_command(j)) {
		wh_admins_command(j);
		return;
	}
	if (strcmp(j->kind, "message") == 0 && !is_bot &&
	    !tgm_json_get(j->msg, "is_topic_message")) {
		if (wh_menu_is_command(j)) /* outside topics: the admin menu (menu.c) */
			wh_menu_command(j);
		else
			wh_menu_input(j, outside_topics);
		return;
	}
	if (strcmp(j->kind, "message") != 0 || is_bot ||
	    !tgm_json_get_int(j->msg, "message_thread_id", &thread)) {
		wh_job_done(j, "ignored: not a message in a topic");
		return;
	}
	tgm_i64(p[0], 24, j->bot->id);
	tgm_i64(p[1], 24, wh_topic_admin(j));
	tgm_i64(p[2], 24, thread);
	wh_job_query(j, topic_user_sql, 3, params, on_topic_user);
}
