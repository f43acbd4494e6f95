/*
 * menu_products.c - the admin menu's Products (docs/admin-centre.md): the bot's
 * products with their sales, paged (p); a product's card (pp) with Activate or
 * Deactivate (pa, the button carrying the value it sets), a new price (pe) or credits
 * (pk) asked for, and New (pn: "label price credits" asked for). Every change is
 * audited; PostgreSQL's checks keep a price above zero.
 */
#include "webhookd/menu.h"
#include "common/money.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

/* clang-format off */
#define SALES \
	"(SELECT count(*) FROM payments s WHERE s.product_id = p.id AND s.status = 'paid')"
/* clang-format on */

static const char list_sql[] =
	"SELECT p.id, p.label, p.price, p.currency, p.credits, p.active, " SALES
	" FROM products p WHERE p.bot_id = $1 ORDER BY p.id"
	" LIMIT " WH_MENU_PAGE_TEXT " + 1 OFFSET $2::int * " WH_MENU_PAGE_TEXT;

static const char card_sql[] =
	"SELECT p.id, p.label, p.price, p.currency, p.credits, p.active, " SALES
	" FROM products p WHERE p.bot_id = $1 AND p.id = $2";

/* $3 the new value */
static const char active_sql[] =
	"UPDATE products SET active = $3 WHERE bot_id = $1 AND id = $2 RETURNING id";
static const char price_sql[] =
	"UPDATE products SET price = $3 WHERE bot_id = $1 AND id = $2 RETURNING id";
static const char credits_sql[] =
	"UPDATE products SET credits = $3 WHERE bot_id = $1 AND id = $2 RETURNING id";
/* $2 label, $3 price, $4 credits */
static const char new_sql[] =
	"INSERT INTO products (bot_id, label, price, credits) VALUES ($1, $2, $3, $4) RETURNING id";

/* label - "Starter · $5.00 · 10 credits · 3 sold" from a row (⏸ when inactive) */
static const char *label(char *out, size_t n, PGresult *res, int i)
{
	char money[64];
	int64_t price = 0;

	tgm_parse_int64(PQgetvalue(res, i, 2), &price);
	tgm_money(money, sizeof(money), price, PQgetvalue(res, i, 3));
	snprintf(out, n, "%s%s · %s · %s cr · %s sold",
		 PQgetvalue(res, i, 5)[0] == 't' ? "" : "⏸ ", PQgetvalue(res, i, 1), money,
		 PQgetvalue(res, i, 4), PQgetvalue(res, i, 6));
	return out;
}

/* list_row - a product of list_sql as its button */
static void list_row(struct wh_job *j, PGresult *res, int i)
{
	char text[200];

	wh_menu_item(j, label(text, sizeof(text), res, i), "pp", res, i);
}

/* on_list - list_sql answered */
static void on_list(struct wh_job *j, PGresult *res, const char *err)
{
	if (!wh_menu_list(
		    j, res, err,
		    wh_menu_t(j, PQntuples(res) ? "menu_products_title" : "menu_products_none"),
		    "p", list_row))
		return;
	wh_menu_key(j, wh_menu_t(j, "menu_product_new"), "pn", 0, 0);
	wh_menu_end(j, "h", 0);
	wh_menu_done(j, "admin menu: products");
}

/* on_card - card_sql answered */
static void on_card(struct wh_job *j, PGresult *res, const char *err)
{
	char text[300];
	bool active;

	if (err) {
		wh_menu_error(j, err);
		return;
	}
	if (PQntuples(res) != 1) {
		wh_menu_nothing(j);
		return;
	}
	active = PQgetvalue(res, 0, 5)[0] == 't';
	wh_menu_begin(j, label(text, sizeof(text), res, 0));
	wh_menu_key(j, wh_menu_t(j, active ? "menu_deactivate" : "menu_activate"), "pa",
		    j->menu.arg, !active);
	wh_menu_row(j);
	wh_menu_key(j, wh_menu_t(j, "menu_product_price"), "pe", j->menu.arg, 0);
	wh_menu_key(j, wh_menu_t(j, "menu_product_credits"), "pk", j->menu.arg, 0);
	wh_menu_end(j, "p", 0);
	wh_menu_done(j, "admin menu: product");
}

/* wh_menu_products - p: the list; pp: a product's card */
void wh_menu_products(struct wh_job *j)
{
	char p[2][24];
	const char *params[2] = { p[0], p[1] };

	if (strcmp(j->menu.view, "p") == 0) {
		tgm_i64(p[0], 24, j->bot_id);
		tgm_i64(p[1], 24, j->menu.page);
		wh_job_query(j, list_sql, 2, params, on_list);
		return;
	}
	wh_menu_params(j, p[0], p[1]);
	wh_job_query(j, card_sql, 2, params, on_card);
}

/* on_changed - a change answered: audited, the card again */
static void on_changed(struct wh_job *j, PGresult *res, const char *err)
{
	int64_t id = 0;

	if (err) { /* a check refused it (a price of 0): asked again */
		j->menu.input = NULL;
		j->menu.toast = wh_menu_t(j, "menu_product_bad");
		wh_menu_product_change(j);
		return;
	}
	if (PQntuples(res) != 1) {
		wh_menu_nothing(j);
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 0), &id);
	wh_audit(j, strcmp(j->menu.view, "pn") == 0 ? "product_new" : "product_change",
		 PQgetvalue(res, 0, 0), NULL);
	j->menu.toast = wh_menu_t(j, "menu_saved");
	wh_menu_show(j, "pp", id);
}

/* product_new - pn: "label price credits" (the label may have spaces) */
static void product_new(struct wh_job *j)
{
	char p[24], label_[65], price[24], credits[24];
	const char *params[4] = { p, label_, price, credits };
	long long a = 0, b = 0;
	int cut = -1;

	for (int i = j->menu.input ? (int)strlen(j->menu.input) - 1 : -1, spaces = 0; i > 0; i--)
		if (j->menu.input[i] == ' ' && ++spaces == 2 && (cut = i) > 0)
			break;
	if (cut <= 0 || cut > 64 || sscanf(j->menu.input + cut, " %lld %lld", &a, &b) != 2 ||
	    a <= 0 || b <= 0 || a > 100000000 || b > 100000000) {
		j->menu.input = NULL;
		wh_menu_prompt(j, wh_menu_t(j, "menu_product_ask"), "p", 0);
		return;
	}
	snprintf(label_, sizeof(label_), "%.*s", cut, j->menu.input);
	tgm_i64(p, sizeof(p), j->bot_id);
	tgm_i64(price, sizeof(price), a);
	tgm_i64(credits, sizeof(credits), b);
	wh_job_query(j, new_sql, 4, params, on_changed);
}

/* wh_menu_product_change - pa (de)activate; pe, pk a price or credits asked for; pn new */
void wh_menu_product_change(struct wh_job *j)
{
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };
	int64_t v = 0;
	bool price = strcmp(j->menu.view, "pe") == 0;

	if (strcmp(j->menu.view, "pn") == 0) {
		if (j->menu.input == NULL)
			wh_menu_prompt(j, wh_menu_t(j, "menu_product_ask"), "p", 0);
		else
			product_new(j);
		return;
	}
	wh_menu_params(j, p[0], p[1]);
	if (strcmp(j->menu.view, "pa") == 0) {
		snprintf(p[2], 24, "%s", j->menu.page ? "t" : "f");
		wh_job_query(j, active_sql, 3, params, on_changed);
	} else if (!wh_menu_int(j, 0, 100000000, &v)) {
		wh_menu_prompt(j, wh_menu_t(j, price ? "menu_price_ask" : "menu_credits_ask"), "pp",
			       j->menu.arg);
	} else {
		tgm_i64(p[2], 24, v);
		wh_job_query(j, price ? price_sql : credits_sql, 3, params, on_changed);
	}
}
