/*
 * menu_users.c - the admin menu's Users (docs/admin-centre.md): the bot's users, last
 * seen first, paged; a search by name, @username or id (a prompt, or /users ann); a
 * user's card (balance, spend, payments, last seen, ban) with Gift and Take back (an
 * amount asked for), Ban and Unban. Every action is audited: gifts and takes in their
 * ledger statement (WH_AUDIT_SQL), bans with the update's end (wh_audit).
 */
#include "webhookd/menu.h"
#include "common/json.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* $2: the page */
static const char list_sql[] =
	"SELECT user_id, first_name, coalesce(username, '') FROM bot_users WHERE bot_id = $1"
	" ORDER BY last_seen_at DESC, user_id LIMIT " WH_MENU_PAGE_TEXT " + 1"
	" OFFSET $2::int * " WH_MENU_PAGE_TEXT;

/* $2: the words searched for: an id, or part of a name or username */
static const char search_sql[] =
	"SELECT user_id, first_name, coalesce(username, '') FROM bot_users WHERE bot_id = $1"
	" AND (CASE WHEN $2 ~ '^[0-9]{1,18}$' THEN user_id = $2::bigint ELSE false END"
	"  OR strpos(lower(first_name || ' ' || coalesce(last_name, '')), lower($2)) > 0"
	"  OR strpos(lower(coalesce(username, '')), lower(ltrim($2, '@'))) > 0)"
	" ORDER BY last_seen_at DESC LIMIT " WH_MENU_PAGE_TEXT;

static const char card_sql[] =
	"SELECT u.first_name, coalesce(u.username, ''), u.credits, u.spent, u.messages,"
	" to_char(u.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), u.banned_at IS NOT NULL,"
	" (SELECT coalesce(jsonb_object_agg(currency, paid), '{}') FROM (SELECT currency,"
	"   sum(amount - refunded_amount) AS paid FROM payments p WHERE p.bot_id = u.bot_id"
	"   AND p.user_id = u.user_id AND p.status = 'paid' GROUP BY currency) x)::text"
	" FROM bot_users u WHERE u.bot_id = $1 AND u.user_id = $2";

/* $3 the update (its ledger key and audit ref), $4 the credits (negative: taken back),
 * $5 the admin; refused: more taken than there is */
/* clang-format off */
#define LEDGER_SQL(kind, action) \
	"SELECT l.balance, l.refused, CASE WHEN NOT l.refused THEN " \
	WH_AUDIT_SQL("$1", "$3", "$5", "'" action "'", "$2::text", \
		     "jsonb_build_object('credits', $4::bigint)") " END, u.language_code" \
	" FROM bot_users u, LATERAL ledger_apply($1::bigint, $2::bigint," \
	" 'menu:" action ":' || $3::text, '" kind "', $4::bigint," \
	" p_reason => 'admin menu: " action "') l WHERE u.bot_id = $1 AND u.user_id = $2"
/* clang-format on */
static const char gift_sql[] = LEDGER_SQL("gift", "gift");
static const char take_sql[] = LEDGER_SQL("adjust", "take");

static const char ban_sql[] =
	"UPDATE bot_users SET banned_at = CASE WHEN $3 THEN coalesce(banned_at, now()) END"
	" WHERE bot_id = $1 AND user_id = $2 RETURNING user_id";

/* user_label - "Ada @ada · 42" from a row of list_sql or search_sql */
static const char *user_label(char *out, size_t n, PGresult *res, int i)
{
	const char *username = PQgetvalue(res, i, 2);

	snprintf(out, n, "%s%s%s · %s", PQgetvalue(res, i, 1), *username ? " @" : "", username,
		 PQgetvalue(res, i, 0));
	return out;
}

/* list_row - a user of list_sql or search_sql as their button */
static void list_row(struct wh_job *j, PGresult *res, int i)
{
	char label[200];

	wh_menu_item(j, user_label(label, sizeof(label), res, i), "up", res, i);
}

/* on_list - list_sql or search_sql answered: a button per user, pages for the list */
static void on_list(struct wh_job *j, PGresult *res, const char *err)
{
	bool list = strcmp(j->menu.view, "u") == 0;

	if (!wh_menu_list(
		    j, res, err,
		    wh_menu_t(j, PQntuples(res) == 0 ? "menu_users_none" : "menu_users_title"),
		    list ? "u" : NULL, list_row))
		return;
	wh_menu_row(j);
	wh_menu_key(j, wh_menu_t(j, "menu_search"), "us", 0, 0);
	wh_menu_end(j, strcmp(j->menu.view, "u") == 0 ? "h" : "u", 0);
	wh_menu_done(j, "admin menu: users");
}

/* wh_menu_users - u: the users, paged; us: the search's prompt, or its results */
void wh_menu_users(struct wh_job *j)
{
	char p[2][24];
	const char *params[2] = { p[0], p[1] };

	tgm_i64(p[0], 24, j->bot_id);
	if (strcmp(j->menu.view, "u") == 0) {
		tgm_i64(p[1], 24, j->menu.page);
		wh_job_query(j, list_sql, 2, params, on_list);
	} else if (j->menu.input) {
		params[1] = j->menu.input;
		wh_job_query(j, search_sql, 2, params, on_list);
	} else {
		wh_menu_prompt(j, wh_menu_t(j, "menu_users_ask"), "u", 0);
	}
}

/* card_buttons - Gift, Take back, Ban or Unban, Payments */
static void card_buttons(struct wh_job *j, bool banned)
{
	wh_menu_key(j, wh_menu_t(j, "menu_gift_one"), "ug", j->menu.arg, 0);
	wh_menu_key(j, wh_menu_t(j, "menu_take"), "ut", j->menu.arg, 0);
	wh_menu_row(j);
	if (banned)
		wh_menu_key(j, wh_menu_t(j, "menu_unban"), "uu", j->menu.arg, 0);
	else
		wh_menu_key(j, wh_menu_t(j, "menu_ban"), "ub", j->menu.arg, 0);
}

/* on_card - card_sql answered: the user's card, or nothing when not the bot's */
static void on_card(struct wh_job *j, PGresult *res, const char *err)
{
	char text[1200], id[24], credits[64], spent[64], paid[200];
	const char *vars[19] = { "id",       id,        "name",  NULL,    "username",
				 NULL,       "credits", credits, "spent", spent,
				 "messages", NULL,      "seen",  NULL,    "paid",
				 paid,       "banned",  NULL,    NULL };
	int64_t n = 0;
	bool banned;

	if (err) {
		wh_menu_error(j, err);
		return;
	}
	if (PQntuples(res) != 1) {
		wh_menu_nothing(j);
		return;
	}
	banned = PQgetvalue(res, 0, 6)[0] == 't';
	tgm_i64(id, sizeof(id), j->menu.arg);
	vars[3] = PQgetvalue(res, 0, 0);
	vars[5] = PQgetvalue(res, 0, 1);
	wh_reply_credits(j, j->lang, credits, sizeof(credits), PQgetvalue(res, 0, 2));
	tgm_parse_int64(PQgetvalue(res, 0, 3), &n);
	tgm_text_count_bot(spent, sizeof(spent), j->bot->settings, "credits", n, j->lang);
	vars[11] = PQgetvalue(res, 0, 4);
	vars[13] = PQgetvalue(res, 0, 5);
	wh_menu_money(paid, sizeof(paid), PQgetvalue(res, 0, 7));
	vars[17] = banned ? wh_menu_t(j, "menu_user_banned") : "";
	wh_menu_begin(j, wh_menu_fill(j, text, sizeof(text), "menu_user_card", vars));
	card_buttons(j, banned);
	wh_menu_end(j, "u", 0);
	wh_menu_done(j, "admin menu: user");
}

/* wh_menu_user - up: a user's card */
void wh_menu_user(struct wh_job *j)
{
	char p[2][24];
	const char *params[2] = { p[0], p[1] };

	wh_menu_params(j, p[0], p[1]);
	wh_job_query(j, card_sql, 2, params, on_card);
}

/* on_ledger - gift_sql or take_sql answered: the user is told of a gift and their balance,
 * in their language; the card again, with what happened on top */
static void on_ledger(struct wh_job *j, PGresult *res, const char *err)
{
	char text[300], credits[64], lang[TGM_TEXT_LANG];
	const char *vars[] = { "credits", credits, NULL };
	bool gift = strcmp(j->menu.view, "ug") == 0;

	if (err) {
		wh_menu_error(j, err);
		return;
	}
	if (PQntuples(res) != 1) {
		wh_menu_nothing(j);
		return;
	}
	if (PQgetvalue(res, 0, 1)[0] == 't') {
		j->menu.toast = wh_menu_t(j, "menu_take_refused");
	} else if (gift) {
		/* to the user, in their language */
		tgm_text_lang(j->bot->settings,
			      PQgetisnull(res, 0, 3) ? NULL : PQgetvalue(res, 0, 3), lang);
		wh_reply_credits(j, lang, credits, sizeof(credits), PQgetvalue(res, 0, 0));
		tgm_text_fill(text, sizeof(text),
			      tgm_text_bot(j->bot->settings, "gift_received", lang), vars);
		wh_reply_text(j, j->menu.arg, 0, text, NULL, NULL, 0);
		j->menu.toast = wh_menu_t(j, "menu_gift_done");
	} else {
		j->menu.toast = wh_menu_t(j, "menu_take_done");
	}
	wh_menu_show(j, "up", j->menu.arg);
}

/* amount - ug, ut: the amount asked for, then the ledger */
static void amount(struct wh_job *j)
{
	char p[5][24];
	const char *params[5] = { p[0], p[1], p[2], p[3], p[4] };
	bool gift = strcmp(j->menu.view, "ug") == 0;
	int64_t n = 0;

	if (!wh_menu_int(j, 1, 1000000, &n)) {
		wh_menu_prompt(j, wh_menu_t(j, gift ? "menu_gift_ask" : "menu_take_ask"), "up",
			       j->menu.arg);
		return;
	}
	wh_menu_params(j, p[0], p[1]);
	tgm_i64(p[2], 24, j->seq);
	tgm_i64(p[3], 24, gift ? n : -n);
	tgm_i64(p[4], 24, wh_role_sender(j));
	wh_job_query(j, gift ? gift_sql : take_sql, 5, params, on_ledger);
}

/* on_ban - ban_sql answered: audited, the card again */
static void on_ban(struct wh_job *j, PGresult *res, const char *err)
{
	char target[24];
	bool ban = strcmp(j->menu.view, "ub") == 0;

	if (err) {
		wh_menu_error(j, err);
		return;
	}
	if (PQntuples(res) != 1) {
		wh_menu_nothing(j);
		return;
	}
	tgm_i64(target, sizeof(target), j->menu.arg);
	wh_audit(j, ban ? "ban" : "unban", target, NULL);
	j->menu.toast = wh_menu_t(j, ban ? "menu_banned" : "menu_unbanned");
	wh_menu_show(j, "up", j->menu.arg);
}

/* wh_menu_user_act - ug gift, ut take back (an amount asked for), ub ban, uu unban */
void wh_menu_user_act(struct wh_job *j)
{
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };

	if (j->menu.view[1] == 'g' || j->menu.view[1] == 't') {
		amount(j);
		return;
	}
	wh_menu_params(j, p[0], p[1]);
	snprintf(p[2], 24, "%s", j->menu.view[1] == 'b' ? "t" : "f");
	wh_job_query(j, ban_sql, 3, params, on_ban);
}
