/*
 * menu.h - the admin menu's parts (menu.c builds and routes; menu_*.c are its
 * categories). A view is named by a short code in the callback data
 * "m1:<view>:<arg>:<page>" (docs/admin-centre.md); its show function reads
 * j->menu (view, arg, page, and input when it answers a prompt), queries with the
 * bot's id (never trusting arg to be the bot's: a row of another bot is not found),
 * renders with the wh_menu_* calls below and ends with wh_menu_done.
 */
#ifndef WEBHOOKD_MENU_H
#define WEBHOOKD_MENU_H

#include "webhookd/job.h"

#include <libpq-fe.h>

/* rows on one page of a list */
#define WH_MENU_PAGE 8
#define WH_MENU_PAGE_TEXT "8"

struct wh_menu_view {
	const char *code;  /* [a-z]{1,3} */
	enum wh_role need; /* checked on every press and every input */
	void (*show)(struct wh_job *j);
};

/* wh_menu_find - the view named code, or NULL */
const struct wh_menu_view *wh_menu_find(const char *code);

/* rendering: begin sends a new menu message (j->menu.msg 0) or edits the menu in place
 * (editMessageText), with text and an inline keyboard built by the calls that follow;
 * end adds the Back button (to back_view with back_arg; NULL: none) and closes it */
void wh_menu_begin(struct wh_job *j, const char *text);
void wh_menu_key(struct wh_job *j, const char *label, const char *view, int64_t arg, int page);
void wh_menu_url(struct wh_job *j, const char *label, const char *url);
void wh_menu_row(struct wh_job *j);
/* wh_menu_pages - a Prev/Next row for view's list at page (more: a next page exists) */
void wh_menu_pages(struct wh_job *j, const char *view, int64_t arg, bool more);
void wh_menu_end(struct wh_job *j, const char *back_view, int64_t back_arg);

/* wh_menu_item - a row of its own with one button, label, to view with the id in column
 * 0 of row i of res */
void wh_menu_item(struct wh_job *j, const char *label, const char *view, PGresult *res, int i);
/* wh_menu_row_fn - the buttons of row i of a list's result */
typedef void (*wh_menu_row_fn)(struct wh_job *j, PGresult *res, int i);
/*
 * wh_menu_list - a list's statement answered (err: wh_menu_error, and false): the menu
 * begun with title, row for each row of res up to WH_MENU_PAGE (the statement asks for
 * one more, so a next page is known), and the Prev/Next row of pages (a view; NULL: a
 * list of one page); true, the caller adds its keys and ends. PQntuples(res) is 0 when
 * err is set, so the title may be chosen by it before.
 */
bool wh_menu_list(struct wh_job *j, PGresult *res, const char *err, const char *title,
		  const char *pages, wh_menu_row_fn row);

/* wh_menu_done - answer the button (with j->menu.toast) and finish the job */
void wh_menu_done(struct wh_job *j, const char *outcome);
/* wh_menu_error - a statement failed: postpone the update (it runs again) */
void wh_menu_error(struct wh_job *j, const char *err);
/* wh_menu_show - render view (arg, page 0) now, as if its button had been pressed
 * (after an action: the card it changed) */
void wh_menu_show(struct wh_job *j, const char *view, int64_t arg);
/* wh_menu_prompt - the menu asks for text: it shows prompt (and a Back to back_view),
 * and remembers that a reply to this message answers j's view (menu_prompts) */
void wh_menu_prompt(struct wh_job *j, const char *prompt, const char *back_view, int64_t back_arg);
/* wh_menu_nothing - the view's object is not the bot's or is gone: say so, Back home */
void wh_menu_nothing(struct wh_job *j);

/* wh_menu_query - run sql with the bot's id as $1; cb gets the job back */
void wh_menu_query(struct wh_job *j, const char *sql, wh_job_cb cb);
/* wh_menu_params - the bot's id in p0 and j->menu.arg in p1 (24 bytes each) */
void wh_menu_params(const struct wh_job *j, char *p0, char *p1);
/* wh_menu_t - a catalog text in the language of the admin who pressed or wrote (their
 * language_code, else the bot's language, else English; the bot's own texts first) */
const char *wh_menu_t(const struct wh_job *j, const char *name);
/* wh_menu_fill - a catalog text with {vars} filled into out */
const char *wh_menu_fill(const struct wh_job *j, char *out, size_t n, const char *name,
			 const char *const *vars);
/* wh_menu_int - the admin's input as a whole number in [min, max]; false otherwise */
bool wh_menu_int(const struct wh_job *j, int64_t min, int64_t max, int64_t *out);

/* wh_menu_money - a JSON object of amounts per currency ({"usd": 1500, "xtr": 20}) as
 * "$15.00, 20 XTR" ("-" when empty) */
const char *wh_menu_money(char *out, size_t n, const char *json);

/* the categories' views (each file's show functions) */
void wh_menu_home(struct wh_job *j);
void wh_menu_users(struct wh_job *j); /* menu_users.c: u, us, up, ug, ut, ub, uu */
void wh_menu_user(struct wh_job *j);
void wh_menu_user_act(struct wh_job *j);
void wh_menu_billing(struct wh_job *j); /* menu_billing.c: b, bf, bp, br */
void wh_menu_payment(struct wh_job *j);
void wh_menu_refund(struct wh_job *j);   /* menu_refund.c: rx */
void wh_menu_settings(struct wh_job *j); /* menu_settings.c: s, sv */
void wh_menu_setting(struct wh_job *j);
void wh_menu_dashboard(struct wh_job *j); /* menu_stats.c: d, y */
void wh_menu_system(struct wh_job *j);
void wh_menu_analytics(struct wh_job *j); /* menu_stats.c: a */
void wh_menu_export(struct wh_job *j);    /* menu_export.c: ax */
void wh_menu_campaigns(struct wh_job *j); /* menu_campaign.c: bc, g, bn, gn, bv, ba, bs */
void wh_menu_campaign_new(struct wh_job *j);
void wh_menu_campaign(struct wh_job *j);
void wh_menu_campaign_act(struct wh_job *j);
void wh_menu_conversations(struct wh_job *j); /* menu_inbox.c: c, q, qa, qd */
void wh_menu_quick(struct wh_job *j);
void wh_menu_quick_change(struct wh_job *j);
void wh_menu_products(struct wh_job *j); /* menu_products.c: p, pp, pa, pe, pk, pn */
void wh_menu_product_change(struct wh_job *j);
void wh_menu_search(struct wh_job *j); /* menu_search.c: f, fp, fm */

#endif
