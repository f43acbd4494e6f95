/*
 * menu.c - the admin menu in Telegram (docs/admin-centre.md): /admin (in the bot's admin
 * group outside topics, or in a private chat with the bot) sends one message with the
 * twelve categories as inline buttons; every press edits that message in place. Button
 * data is "m1:<view>:<arg>:<page>", read strictly and trusted for nothing: each press and
 * each reply to a prompt checks the sender's role for the view (role.c) and the chat the
 * menu lives in, and every view queries by the bot's id. Text asked for by a prompt is
 * the admin's reply to the menu message, found through menu_prompts (029_menu.sql), so a
 * restart of webhookd loses nothing. The categories live in menu_*.c; this file holds the
 * table of views, the routing, and the keyboard building they share.
 */
#include "webhookd/menu.h"
#include "common/botset.h"
#include "common/json.h"
#include "common/log.h"
#include "common/money.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a prompt is answered within a day (each reply is one answer) */
static const char prompt_sql[] =
	"INSERT INTO menu_prompts (bot_id, chat_id, message_id, view, arg)"
	" VALUES ($1, $2, $3, $4, $5) ON CONFLICT (bot_id, chat_id, message_id)"
	" DO UPDATE SET view = $4, arg = $5, created_at = now()";

static const char answer_sql[] =
	"SELECT view, arg FROM menu_prompts WHERE bot_id = $1 AND chat_id = $2 AND message_id = $3"
	" AND created_at > now() - interval '1 day'";

static const struct wh_menu_view views[] = {
	{ "h", WH_ROLE_AGENT, wh_menu_home },
	{ "d", WH_ROLE_AGENT, wh_menu_dashboard },
	{ "y", WH_ROLE_ADMIN, wh_menu_system },
	{ "u", WH_ROLE_AGENT, wh_menu_users },
	{ "us", WH_ROLE_AGENT, wh_menu_users },
	{ "up", WH_ROLE_AGENT, wh_menu_user },
	{ "ug", WH_ROLE_ADMIN, wh_menu_user_act },
	{ "ut", WH_ROLE_ADMIN, wh_menu_user_act },
	{ "ub", WH_ROLE_ADMIN, wh_menu_user_act },
	{ "uu", WH_ROLE_ADMIN, wh_menu_user_act },
	{ "b", WH_ROLE_ADMIN, wh_menu_billing },
	{ "bf", WH_ROLE_ADMIN, wh_menu_billing },
	{ "bp", WH_ROLE_ADMIN, wh_menu_payment },
	{ "br", WH_ROLE_ADMIN, wh_menu_payment },
	{ "rx", WH_ROLE_ADMIN, wh_menu_refund },
	{ "s", WH_ROLE_OWNER, wh_menu_settings },
	{ "sv", WH_ROLE_OWNER, wh_menu_setting },
	{ "a", WH_ROLE_ADMIN, wh_menu_analytics },
	{ "ax", WH_ROLE_ADMIN, wh_menu_export },
	{ "bc", WH_ROLE_ADMIN, wh_menu_campaigns },
	{ "g", WH_ROLE_ADMIN, wh_menu_campaigns },
	{ "bn", WH_ROLE_ADMIN, wh_menu_campaign_new },
	{ "gn", WH_ROLE_ADMIN, wh_menu_campaign_new },
	{ "bv", WH_ROLE_ADMIN, wh_menu_campaign },
	{ "ba", WH_ROLE_ADMIN, wh_menu_campaign_act },
	{ "bs", WH_ROLE_ADMIN, wh_menu_campaign_act },
	{ "c", WH_ROLE_AGENT, wh_menu_conversations },
	{ "q", WH_ROLE_AGENT, wh_menu_quick },
	{ "qa", WH_ROLE_AGENT, wh_menu_quick_change },
	{ "qd", WH_ROLE_AGENT, wh_menu_quick_change },
	{ "p", WH_ROLE_ADMIN, wh_menu_products },
	{ "pp", WH_ROLE_ADMIN, wh_menu_products },
	{ "pa", WH_ROLE_ADMIN, wh_menu_product_change },
	{ "pe", WH_ROLE_ADMIN, wh_menu_product_change },
	{ "pk", WH_ROLE_ADMIN, wh_menu_product_change },
	{ "pn", WH_ROLE_ADMIN, wh_menu_product_change },
	{ "f", WH_ROLE_AGENT, wh_menu_search },
	{ "fp", WH_ROLE_ADMIN, wh_menu_search },
	{ "fm", WH_ROLE_AGENT, wh_menu_search },
};

/* the twelve categories of the home view: label and view, in the order */
static const struct {
	const char *label, *view;
} categories[] = {
	{ "menu_conversations", "c" }, { "menu_dashboard", "d" }, { "menu_analytics", "a" },
	{ "menu_users", "u" },         { "menu_products", "p" },  { "menu_billing", "b" },
	{ "menu_broadcast", "bc" },    { "menu_gift", "g" },      { "menu_settings", "s" },
	{ "menu_system", "y" },        { "menu_quick", "q" },     { "menu_search", "f" },
};

/* the shortcuts: a command and the view it opens */
static const struct {
	const char *name, *view;
} shortcuts[] = {
	{ "admin", "h" },     { "dashboard", "d" }, { "users", "u" },         { "products", "p" },
	{ "analytics", "a" }, { "system", "y" },    { "conversations", "c" }, { "broadcast", "bc" },
};

const struct wh_menu_view *wh_menu_find(const char *code)
{
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
		if (strcmp(views[i].code, code) == 0)
			return &views[i];
	return NULL;
}

const char *wh_menu_t(const struct wh_job *j, const char *name)
{
	return wh_say(j, name);
}

const char *wh_menu_fill(const struct wh_job *j, char *out, size_t n, const char *name,
			 const char *const *vars)
{
	return tgm_text_fill(out, n, wh_menu_t(j, name), vars);
}

void wh_menu_query(struct wh_job *j, const char *sql, wh_job_cb cb)
{
	char p[24];
	const char *params[1] = { p };

	tgm_i64(p, sizeof(p), j->bot_id);
	wh_job_query(j, sql, 1, params, cb);
}

void wh_menu_params(const struct wh_job *j, char *p0, char *p1)
{
	tgm_i64(p0, 24, j->bot_id);
	tgm_i64(p1, 24, j->menu.arg);
}

bool wh_menu_int(const struct wh_job *j, int64_t min, int64_t max, int64_t *out)
{
	char word[24];

	if (j->menu.input == NULL || sscanf(j->menu.input, " %23s", word) != 1 ||
	    !tgm_parse_int64(word, out))
		return false;
	return *out >= min && *out <= max;
}

const char *wh_menu_money(char *out, size_t n, const char *json)
{
	char err[64], one[64];
	yajl_val obj = tgm_json_parse(json, strlen(json), strlen(json) + 1, 4, err, sizeof(err));
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; obj && YAJL_IS_OBJECT(obj) && i < obj->u.object.len; i++) {
		yajl_val v = obj->u.object.values[i];

		if (!YAJL_IS_INTEGER(v))
			continue;
		tgm_money(one, sizeof(one), YAJL_GET_INTEGER(v), obj->u.object.keys[i]);
		at += (size_t)snprintf(out + at, at < n ? n - at : 0, "%s%s", at ? ", " : "", one);
		if (at >= n)
			break;
	}
	if (obj)
		yajl_tree_free(obj);
	if (out[0] == '\0')
		snprintf(out, n, "-");
	return out;
}

/* --- the keyboard ----------------------------------------------------------------- */

void wh_menu_begin(struct wh_job *j, const char *text)
{
	char both[4600];

	if (j->menu.toast && strcmp(j->kind, "callback_query") != 0) { /* no toast: on top */
		snprintf(both, sizeof(both), "%s\n\n%s", j->menu.toast, text);
		text = both;
	}
	wh_reply_begin(j, j->menu.chat, j->menu.msg ? "editMessageText" : "sendMessage", 0);
	if (j->menu.msg)
		tgm_jgen_kint(j->replies, "message_id", j->menu.msg);
	tgm_jgen_kstr(j->replies, "text", text);
	tgm_jgen_key(j->replies, "reply_markup");
	yajl_gen_map_open(j->replies);
	tgm_jgen_key(j->replies, "inline_keyboard");
	yajl_gen_array_open(j->replies);
	j->menu.row = false;
}

void wh_menu_row(struct wh_job *j)
{
	if (j->menu.row)
		yajl_gen_array_close(j->replies);
	j->menu.row = false;
}

/* row_open - a row to add a button to */
static void row_open(struct wh_job *j)
{
	if (!j->menu.row)
		yajl_gen_array_open(j->replies);
	j->menu.row = true;
}

void wh_menu_key(struct wh_job *j, const char *label, const char *view, int64_t arg, int page)
{
	char data[64];

	snprintf(data, sizeof(data), "m1:%s:%lld:%d", view, (long long)arg, page);
	row_open(j);
	yajl_gen_map_open(j->replies);
	tgm_jgen_kstr(j->replies, "text", label);
	tgm_jgen_kstr(j->replies, "callback_data", data);
	yajl_gen_map_close(j->replies);
}

void wh_menu_url(struct wh_job *j, const char *label, const char *url)
{
	row_open(j);
	yajl_gen_map_open(j->replies);
	tgm_jgen_kstr(j->replies, "text", label);
	tgm_jgen_kstr(j->replies, "url", url);
	yajl_gen_map_close(j->replies);
}

void wh_menu_pages(struct wh_job *j, const char *view, int64_t arg, bool more)
{
	wh_menu_row(j);
	if (j->menu.page > 0)
		wh_menu_key(j, wh_menu_t(j, "menu_prev"), view, arg, j->menu.page - 1);
	if (more)
		wh_menu_key(j, wh_menu_t(j, "menu_next"), view, arg, j->menu.page + 1);
	wh_menu_row(j);
}

void wh_menu_item(struct wh_job *j, const char *label, const char *view, PGresult *res, int i)
{
	int64_t id = 0;

	tgm_parse_int64(PQgetvalue(res, i, 0), &id);
	wh_menu_row(j);
	wh_menu_key(j, label, view, id, 0);
}

bool wh_menu_list(struct wh_job *j, PGresult *res, const char *err, const char *title,
		  const char *pages, wh_menu_row_fn row)
{
	int n;

	if (err) {
		wh_menu_error(j, err);
		return false;
	}
	n = PQntuples(res);
	wh_menu_begin(j, title);
	for (int i = 0; i < n && i < WH_MENU_PAGE; i++)
		row(j, res, i);
	if (pages)
		wh_menu_pages(j, pages, 0, n > WH_MENU_PAGE);
	return true;
}

void wh_menu_end(struct wh_job *j, const char *back_view, int64_t back_arg)
{
	wh_menu_row(j);
	if (back_view) {
		wh_menu_key(j, wh_menu_t(j, "menu_back"), back_view, back_arg, 0);
		wh_menu_row(j);
	}
	yajl_gen_array_close(j->replies);
	yajl_gen_map_close(j->replies);
	wh_reply_end(j);
}

/* --- answers and endings ------------------------------------------------------------ */

/* answer - answerCallbackQuery for a press (a direct call: the spinner stops at once) */
static void answer(struct wh_job *j, const char *text)
{
	yajl_gen g;

	if (strcmp(j->kind, "callback_query") != 0)
		return;
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "callback_query_id", tgm_json_get_str(j->body, "id"));
	if (text)
		tgm_jgen_kstr(g, "text", text);
	yajl_gen_map_close(g);
	wh_reply_direct(j, "answerCallbackQuery", g, wh_reply_direct_done, j->wh);
}

void wh_menu_done(struct wh_job *j, const char *outcome)
{
	answer(j, j->menu.toast);
	wh_job_done(j, outcome);
}

void wh_menu_error(struct wh_job *j, const char *err)
{
	wh_job_postpone(j, WH_RETRY_SECONDS, err);
}

void wh_menu_nothing(struct wh_job *j)
{
	wh_menu_begin(j, wh_menu_t(j, "menu_nothing"));
	wh_menu_end(j, "h", 0);
	wh_menu_done(j, "admin menu: nothing there");
}

void wh_menu_show(struct wh_job *j, const char *view, int64_t arg)
{
	const struct wh_menu_view *v = wh_menu_find(view);

	snprintf(j->menu.view, sizeof(j->menu.view), "%s", view);
	j->menu.arg = arg;
	j->menu.page = 0;
	j->menu.input = NULL;
	v->show(j);
}

/* on_prompted - the prompt is remembered: show it */
static void on_prompted(struct wh_job *j, PGresult *res, const char *err)
{
	(void)res;
	if (err) {
		wh_menu_error(j, err);
		return;
	}
	wh_menu_done(j, "admin menu: prompt");
}

void wh_menu_prompt(struct wh_job *j, const char *prompt, const char *back_view, int64_t back_arg)
{
	char p[5][24];
	const char *params[5] = { p[0], p[1], p[2], j->menu.view, p[4] };

	if (j->menu.msg == 0) { /* a prompt needs the menu's message: open the menu first */
		wh_menu_show(j, "h", 0);
		return;
	}
	wh_menu_begin(j, prompt);
	wh_menu_end(j, back_view, back_arg);
	tgm_i64(p[0], 24, j->bot_id);
	tgm_i64(p[1], 24, j->menu.chat);
	tgm_i64(p[2], 24, j->menu.msg);
	tgm_i64(p[4], 24, j->menu.arg);
	wh_job_query(j, prompt_sql, 5, params, on_prompted);
}

/* --- the home view ------------------------------------------------------------------- */

/* wh_menu_home - the twelve categories, two a row */
void wh_menu_home(struct wh_job *j)
{
	char text[300];
	const char *vars[] = { "bot", j->bot->username ? j->bot->username : "", NULL };

	wh_menu_begin(j, wh_menu_fill(j, text, sizeof(text), "menu_title", vars));
	for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++) {
		if (i % 2 == 0)
			wh_menu_row(j);
		wh_menu_key(j, wh_menu_t(j, categories[i].label), categories[i].view, 0, 0);
	}
	wh_menu_end(j, NULL, 0);
	wh_menu_done(j, "admin menu");
}

/* --- routing --------------------------------------------------------------------------- */

/* run - the role is enough: show the view */
static void run(struct wh_job *j)
{
	wh_menu_find(j->menu.view)->show(j);
}

/* refuse - a press that is no button of this menu (malformed, out of date, another
 * chat's): a toast, nothing else */
static void refuse(struct wh_job *j, const char *outcome)
{
	j->menu.toast = wh_menu_t(j, "menu_stale");
	wh_menu_done(j, outcome);
}

/* parse_data - "m1:<view>:<arg>:<page>" into j->menu: a known view, arg and page
 * whole numbers without sign or leading junk, nothing after */
static bool parse_data(struct wh_job *j, const char *data)
{
	char view[4];
	long long arg = -1;
	int page = -1, end = 0;

	if (data == NULL || strlen(data) > 64 ||
	    strspn(data, "abcdefghijklmnopqrstuvwxyz0123456789:") != strlen(data) ||
	    sscanf(data, "m1:%3[a-z]:%19lld:%6d%n", view, &arg, &page, &end) != 3 ||
	    (size_t)end != strlen(data) || arg < 0 || page < 0 || page > 100000 ||
	    wh_menu_find(view) == NULL)
		return false;
	snprintf(j->menu.view, sizeof(j->menu.view), "%s", view);
	j->menu.arg = arg;
	j->menu.page = page;
	return true;
}

/* menu_chat - chat may hold the menu: the bot's admin group, or the sender's private
 * chat with the bot */
static bool menu_chat(const struct wh_job *j, int64_t chat)
{
	int64_t admin = tgm_botset_int(j->bot->settings, "admin_chat_id");

	return (admin != 0 && chat == admin) || (chat > 0 && chat == wh_role_sender(j));
}

void wh_menu_button(struct wh_job *j)
{
	const char *chat_path[] = { "message", "chat", "id", NULL };
	yajl_val chat = yajl_tree_get(j->body, chat_path, yajl_t_number);
	yajl_val message = tgm_json_get(j->body, "message");

	if (!parse_data(j, tgm_json_get_str(j->body, "data"))) {
		refuse(j, "admin menu: refused: not a button of the menu");
		return;
	}
	if (chat == NULL || !YAJL_IS_INTEGER(chat) || !menu_chat(j, YAJL_GET_INTEGER(chat)) ||
	    !tgm_json_get_int(message, "message_id", &j->menu.msg) ||
	    tgm_json_get(message, "is_topic_message")) {
		refuse(j, "admin menu: refused: a menu button in another chat");
		return;
	}
	j->menu.chat = YAJL_GET_INTEGER(chat);
	wh_role_need(j, wh_menu_find(j->menu.view)->need, run); /* the role check */
}

bool wh_menu_is_command(const struct wh_job *j)
{
	char name[24];

	if (j->text == NULL || !tgm_tg_command(j->text, j->bot->username, name, sizeof(name), NULL))
		return false;
	for (size_t i = 0; i < sizeof(shortcuts) / sizeof(shortcuts[0]); i++)
		if (strcmp(name, shortcuts[i].name) == 0)
			return true;
	return false;
}

void wh_menu_command(struct wh_job *j)
{
	char name[24];
	const char *args = NULL;

	tgm_tg_command(j->text, j->bot->username, name, sizeof(name), &args);
	for (size_t i = 0; i < sizeof(shortcuts) / sizeof(shortcuts[0]); i++)
		if (strcmp(name, shortcuts[i].name) == 0)
			snprintf(j->menu.view, sizeof(j->menu.view), "%s", shortcuts[i].view);
	if (strcmp(j->menu.view, "u") == 0 && args && *args) { /* /users ann: a search */
		snprintf(j->menu.view, sizeof(j->menu.view), "us");
		j->menu.input = args;
	}
	if (wh_menu_find(j->menu.view) == NULL)
		snprintf(j->menu.view, sizeof(j->menu.view), "h");
	j->menu.chat = j->chat_id;
	wh_role_need(j, wh_menu_find(j->menu.view)->need, run); /* the role check */
}

/* on_answer - answer_sql: the prompt the message replies to (then the role check for
 * its view), or otherwise */
static void on_answer(struct wh_job *j, PGresult *res, const char *err)
{
	void (*otherwise)(struct wh_job * j) = j->menu.otherwise;

	if (err) {
		wh_menu_error(j, err);
		return;
	}
	if (PQntuples(res) != 1 || wh_menu_find(PQgetvalue(res, 0, 0)) == NULL) {
		otherwise(j);
		return;
	}
	snprintf(j->menu.view, sizeof(j->menu.view), "%s", PQgetvalue(res, 0, 0));
	tgm_parse_int64(PQgetvalue(res, 0, 1), &j->menu.arg);
	j->menu.input = j->text ? j->text : "";
	wh_role_need(j, wh_menu_find(j->menu.view)->need, run); /* the role check */
}

void wh_menu_input(struct wh_job *j, void (*otherwise)(struct wh_job *j))
{
	const char *path[] = { "reply_to_message", "from", "is_bot", NULL };
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };
	yajl_val reply = tgm_json_get(j->msg, "reply_to_message");

	if (reply == NULL || yajl_tree_get(j->msg, path, yajl_t_true) == NULL ||
	    !tgm_json_get_int(reply, "message_id", &j->menu.msg) || j->text == NULL) {
		otherwise(j);
		return;
	}
	j->menu.chat = j->chat_id;
	j->menu.otherwise = otherwise;
	tgm_i64(p[0], 24, j->bot_id);
	tgm_i64(p[1], 24, j->chat_id);
	tgm_i64(p[2], 24, j->menu.msg);
	wh_job_query(j, answer_sql, 3, params, on_answer);
}
