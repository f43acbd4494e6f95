/*
 * menu_export.c - the admin menu's CSV export (ax, from Analytics; docs/admin-centre.md):
 * the bot's last 30 days, one line a day and currency (day, new users, users seen that
 * day for the last time, paid payments, revenue net of refunds in minor units,
 * currency), sent to the menu's chat as a document (sendDocument, multipart/form-data,
 * a direct call), then Analytics again with "CSV sent".
 */
#include "webhookd/menu.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

static const char export_sql[] =
	"WITH d AS (SELECT generate_series(date_trunc('day', now()) - interval '29 days',"
	"  date_trunc('day', now()), interval '1 day') AS day),"
	" u AS (SELECT date_trunc('day', first_seen_at) AS day, count(*) AS n FROM bot_users"
	"  WHERE bot_id = $1 AND first_seen_at > now() - interval '31 days' GROUP BY 1),"
	" s AS (SELECT date_trunc('day', last_seen_at) AS day, count(*) AS n FROM bot_users"
	"  WHERE bot_id = $1 AND last_seen_at > now() - interval '31 days' GROUP BY 1),"
	" p AS (SELECT date_trunc('day', paid_at) AS day, currency, count(*) AS n,"
	"  sum(amount - refunded_amount) AS net FROM payments WHERE bot_id = $1 AND status = 'paid'"
	"  AND paid_at > now() - interval '31 days' GROUP BY 1, 2)"
	" SELECT to_char(d.day, 'YYYY-MM-DD'), coalesce(u.n, 0), coalesce(s.n, 0), coalesce(p.n, 0),"
	" coalesce(p.net, 0), coalesce(p.currency, '')"
	" FROM d LEFT JOIN u ON u.day = d.day LEFT JOIN s ON s.day = d.day"
	" LEFT JOIN p ON p.day = d.day ORDER BY d.day, p.currency";

/* part - a form field's part of a multipart body */
static void part(struct tgm_buf *b, const char *boundary, const char *name, const char *value)
{
	tgm_buf_printf(b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n",
		       boundary, name, value);
}

/* send_csv - sendDocument of csv (len bytes) as "<bot>-30-days.csv" to the menu's chat */
static void send_csv(struct wh_job *j, const char *csv, size_t len)
{
	char boundary[40], chat[24], type[80], name[96];
	struct tgm_buf b;

	memcpy(boundary, "tgmcsv", 6);
	tgm_random_token(boundary + 6, 25, NULL);
	tgm_i64(chat, sizeof(chat), j->menu.chat);
	snprintf(name, sizeof(name), "%s-30-days.csv", j->bot->username ? j->bot->username : "bot");
	tgm_buf_init(&b);
	part(&b, boundary, "chat_id", chat);
	tgm_buf_printf(&b,
		       "--%s\r\nContent-Disposition: form-data; name=\"document\";"
		       " filename=\"%s\"\r\nContent-Type: text/csv\r\n\r\n",
		       boundary, name);
	tgm_buf_add(&b, csv, len);
	tgm_buf_printf(&b, "\r\n--%s--\r\n", boundary);
	snprintf(type, sizeof(type), "multipart/form-data; boundary=%s", boundary);
	j->wh->inflight++;
	tgm_tg_call_body(j->wh->tg, j->wh->ctx->cfg->telegram.api_url, j->bot->token,
			 "sendDocument", type, b.p, b.len, j->wh->ctx->cfg->telegram.timeout * 1000,
			 wh_reply_direct_done, j->wh);
	tgm_buf_free(&b);
}

/* on_export - export_sql answered: the CSV made and sent; Analytics again */
static void on_export(struct wh_job *j, PGresult *res, const char *err)
{
	struct tgm_buf csv;

	if (err) {
		wh_menu_error(j, err);
		return;
	}
	tgm_buf_init(&csv);
	tgm_buf_adds(&csv, "day,new_users,last_seen_users,payments,revenue_minor,currency\n");
	for (int i = 0; i < PQntuples(res); i++)
		tgm_buf_printf(&csv, "%s,%s,%s,%s,%s,%s\n", PQgetvalue(res, i, 0),
			       PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
			       PQgetvalue(res, i, 4), PQgetvalue(res, i, 5));
	send_csv(j, csv.p, csv.len);
	tgm_buf_free(&csv);
	wh_audit(j, "export", "analytics", NULL);
	j->menu.toast = wh_menu_t(j, "menu_csv_sent");
	wh_menu_show(j, "a", 0);
}

/* wh_menu_export - ax */
void wh_menu_export(struct wh_job *j)
{
	wh_menu_query(j, export_sql, on_export);
}
