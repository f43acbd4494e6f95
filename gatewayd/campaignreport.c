/*
 * campaignreport.c - GET /v1/campaigns/{id}/report.csv: one row per recipient of a
 * campaign, in message order: who (bot, user, username, first name), the message with
 * its status now, attempts, Telegram's message id, when it was sent and its last error,
 * and the gift's ledger entry with the balance after it. Rows are read REPORT_BATCH at a
 * time and each batch is written out before the next is read (like export.c), so
 * memory stays bounded and a client that stops reading stops the report.
 */
#include "gatewayd/campaigns.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_BATCH 1000
#define NCOLS 12

static const char exists_sql[] =
	"SELECT 1 FROM campaigns WHERE id = $1 AND tenant_id = $2";

static const char batch_sql[] =
	"SELECT r.message_id, r.bot_id, r.user_id, coalesce(u.username, ''),"
	" coalesce(u.first_name, ''), m.status, m.attempts, m.telegram_message_id, m.sent_at,"
	" m.last_error, r.ledger_id, r.balance"
	" FROM campaign_recipients r JOIN messages m ON m.id = r.message_id"
	" LEFT JOIN bot_users u ON u.bot_id = r.bot_id AND u.user_id = r.user_id"
	" WHERE r.campaign_id = $1 AND r.message_id > $2 ORDER BY r.message_id LIMIT 1000";

static const char header[] =
	"message_id,bot_id,user_id,username,first_name,status,attempts,telegram_message_id,"
	"sent_at,last_error,gift_entry_id,balance\r\n";

struct report {
	struct gatewayd *gw;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	char campaign[24];
	char after[24];     /* the next batch's message ids are above this */
	bool querying;
	bool gone;          /* the client left */
	bool detached;      /* and libevent let go of the request: it is ours to end */
};

/* finish - the report is over (done or the client left): let go of everything */
static void finish(struct report *x)
{
	if (!x->gone)
		evhttp_connection_set_closecb(x->conn, NULL, NULL);
	if (!x->gone || x->detached)
		evhttp_send_reply_end(x->req); /* also frees a request libevent let go of */
	free(x);
}

/* on_close - the client went away: stop at the next batch */
static void on_close(struct evhttp_connection *conn, void *arg)
{
	struct report *x = arg;

	x->gone = true;
	x->detached = evhttp_request_get_connection(x->req) == NULL;
	if (!x->querying)
		finish(x);
}

/* cell - one CSV field: quoted when needed; text that a spreadsheet would run as a
 * formula (=, +, -, @ first) gets a leading ' when guard is set */
static void cell(struct tgm_buf *b, const char *v, bool guard, bool last)
{
	bool quote = strpbrk(v, ",\"\r\n") != NULL;

	if (quote)
		tgm_buf_addc(b, '"');
	if (guard && v[0] && strchr("=+-@\t\r", v[0]))
		tgm_buf_addc(b, '\'');
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			tgm_buf_addc(b, '"');
		tgm_buf_addc(b, *p);
	}
	if (quote)
		tgm_buf_addc(b, '"');
	tgm_buf_adds(b, last ? "\r\n" : ",");
}

static void next_batch(struct report *x);

/* on_flushed - the last batch reached the client: fetch the next */
static void on_flushed(struct evhttp_connection *conn, void *arg)
{
	next_batch(arg);
}

/* on_batch - one batch of rows: write them as CSV, or end the report */
static void on_batch(PGresult *res, const char *err, void *arg)
{
	struct report *x = arg;
	struct evbuffer *out;
	struct tgm_buf b;
	int rows;

	x->querying = false;
	if (x->gone || err) {
		if (err)
			log_warn("campaign report: %s", err); /* the client sees a cut CSV */
		finish(x);
		return;
	}
	rows = PQntuples(res);
	tgm_buf_init(&b);
	for (int i = 0; i < rows; i++)
		for (int c = 0; c < NCOLS; c++) /* names and errors are others' text */
			cell(&b, PQgetvalue(res, i, c), c == 3 || c == 4 || c == 9, c == NCOLS - 1);
	if (rows > 0)
		snprintf(x->after, sizeof(x->after), "%s", PQgetvalue(res, rows - 1, 0));
	out = evbuffer_new();
	evbuffer_add(out, b.p ? b.p : "", b.len);
	tgm_buf_free(&b);
	if (rows < REPORT_BATCH) {
		evhttp_send_reply_chunk(x->req, out);
		evbuffer_free(out);
		finish(x);
		return;
	}
	evhttp_send_reply_chunk_with_cb(x->req, out, on_flushed, x); /* then the next */
	evbuffer_free(out);
}

/* next_batch - query the batch after the last row sent */
static void next_batch(struct report *x)
{
	const char *p[2] = { x->campaign, x->after };

	x->querying = true;
	tgm_pg_query(x->gw->ctx->db, batch_sql, 2, p, on_batch, x);
}

/* on_exists - the campaign is the tenant's: start the stream; else 404 */
static void on_exists(struct gw_req *r, PGresult *res, const char *err)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	struct evbuffer *out;
	struct report *x;

	if (err || PQntuples(res) == 0) {
		if (err)
			gw_reply_db_error(r, err);
		else
			gw_reply_problem(r, 404, "campaign_not_found", "no such campaign", NULL);
		return;
	}
	x = tgm_xcalloc(1, sizeof(*x));
	x->gw = r->gw;
	x->req = r->req;
	x->conn = evhttp_request_get_connection(r->req);
	snprintf(x->campaign, sizeof(x->campaign), "%s", tgm_http_param(&r->params, "id"));
	snprintf(x->after, sizeof(x->after), "0");
	evhttp_add_header(h, "Content-Type", "text/csv; charset=utf-8");
	evhttp_add_header(h, "Content-Disposition", "attachment; filename=\"campaign.csv\"");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply_start(r->req, 200, "OK");
	evhttp_connection_set_closecb(x->conn, on_close, x);
	gw_req_free(r); /* the stream is the report's now */
	out = evbuffer_new();
	evbuffer_add(out, header, strlen(header));
	evhttp_send_reply_chunk(x->req, out);
	evbuffer_free(out);
	next_batch(x);
}

void gw_campaignreport(struct gw_req *r)
{
	char tenant[24];
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };

	if (gw_campaigns_path(r, tenant))
		gw_query_sql(r, exists_sql, 2, p, on_exists);
}
