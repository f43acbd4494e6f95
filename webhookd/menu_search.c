/*
 * menu_search.c - the admin menu's Search (docs/admin-centre.md): users (the Users
 * search, us), payments (fp: by payment id or user id) and messages (fm: the
 * conversations whose last message has the words), each asked for and answered with
 * buttons to what was found.
 */
#include "webhookd/menu.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

/* $2 the payment's or user's id */
static const char payments_sql[] =
	"SELECT id, user_id, status FROM payments WHERE bot_id = $1 AND (id = $2 OR user_id = $2)"
	" ORDER BY id DESC LIMIT " WH_MENU_PAGE_TEXT;

/* $2 the words */
static const char messages_sql[] =
	"SELECT chat_id, coalesce(nullif(contact, ''), chat_id::text), left(last_text, 40)"
	" FROM conversations WHERE bot_id = $1 AND strpos(lower(coalesce(last_text, '')), lower($2)) > 0"
	" ORDER BY last_activity_at DESC LIMIT " WH_MENU_PAGE_TEXT;

/* found_row - a find of payments_sql or messages_sql as its button */
static void found_row(struct wh_job *j, PGresult *res, int i)
{
	char label[200];
	bool payments = strcmp(j->menu.view, "fp") == 0;

	snprintf(label, sizeof(label), payments ? "#%s · user %s · %s" : "%.0s%s: %s",
		 PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	wh_menu_item(j, label, payments ? "bp" : "up", res, i);
}

/* on_found - payments_sql or messages_sql answered (at most a page): a button to each */
static void on_found(struct wh_job *j, PGresult *res, const char *err)
{
	if (!wh_menu_list(j, res, err,
			  wh_menu_t(j, PQntuples(res) ? "menu_found" : "menu_found_none"), NULL,
			  found_row))
		return;
	wh_menu_end(j, "f", 0);
	wh_menu_done(j, "admin menu: search");
}

/* wh_menu_search - f: what to search; fp, fm: asked for, then found */
void wh_menu_search(struct wh_job *j)
{
	char p[2][24];
	const char *params[2] = { p[0], p[1] };
	int64_t id = 0;

	tgm_i64(p[0], 24, j->bot_id);
	if (strcmp(j->menu.view, "f") == 0) {
		wh_menu_begin(j, wh_menu_t(j, "menu_search_title"));
		wh_menu_key(j, wh_menu_t(j, "menu_users"), "us", 0, 0);
		wh_menu_key(j, wh_menu_t(j, "menu_billing"), "fp", 0, 0);
		wh_menu_key(j, wh_menu_t(j, "menu_conversations"), "fm", 0, 0);
		wh_menu_end(j, "h", 0);
		wh_menu_done(j, "admin menu: search");
	} else if (strcmp(j->menu.view, "fp") == 0 && wh_menu_int(j, 1, INT64_MAX, &id)) {
		tgm_i64(p[1], 24, id);
		wh_job_query(j, payments_sql, 2, params, on_found);
	} else if (strcmp(j->menu.view, "fm") == 0 && j->menu.input && *j->menu.input) {
		params[1] = j->menu.input;
		wh_job_query(j, messages_sql, 2, params, on_found);
	} else {
		wh_menu_prompt(j,
			       wh_menu_t(j, j->menu.view[1] == 'p' ? "menu_search_payments"
								   : "menu_search_messages"),
			       "f", 0);
	}
}
