/*
 * export.c - GET /v1/exports/messages.csv: the tenant's messages (filtered by bot and
 * status) as CSV, newest first, of any size. Rows are read EXPORT_BATCH at a time by
 * id and each batch is written out before the next is read, so memory stays bounded
 * whatever the size, and a client that stops reading stops the export.
 */
#include "gatewayd/gatewayd.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT_BATCH 1000

static const char batch_sql[] =
	"SELECT id, bot_id, chat, method, status, attempts,"
	" coalesce(params->>'text', params->>'caption'), created_at, sent_at, last_error"
	" FROM messages WHERE tenant_id = $1 AND ($2::bigint IS NULL OR bot_id = $2)"
	" AND ($3::text IS NULL OR status = $3) AND id < $4"
	" ORDER BY id DESC LIMIT 1000";

static const char header[] =
	"id,bot_id,chat,method,status,attempts,text,created_at,sent_at,last_error\r\n";

struct export {
	struct gatewayd *gw;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	char tenant[24];
	char *bot, *status; /* filters, or NULL */
	char before[24];    /* the next batch's ids are below this */
	bool querying;
	bool gone;          /* the client left */
	bool detached;      /* and libevent let go of the request: it is ours to end */
};

/* export_free - free an export */
static void export_free(struct export *x)
{
	free(x->bot);
	free(x->status);
	free(x);
}

/* finish - the export is over (done or the client left): let go of everything */
static void finish(struct export *x)
{
	if (!x->gone)
		evhttp_connection_set_closecb(x->conn, NULL, NULL);
	if (!x->gone || x->detached)
		evhttp_send_reply_end(x->req); /* also frees a request libevent let go of */
	export_free(x);
}

/* on_close - the client went away: stop at the next batch */
static void on_close(struct evhttp_connection *conn, void *arg)
{
	struct export *x = arg;

	x->gone = true;
	x->detached = evhttp_request_get_connection(x->req) == NULL;
	if (!x->querying)
		finish(x); /* waiting for a flush that will not come */
}

/* cell - one CSV field: quoted when needed; text that a spreadsheet would run as a
 * formula (=, +, -, @ first) gets a leading ' when guard is set */
static void cell(struct tgm_buf *b, const char *v, bool guard, bool last)
{
	bool quote = strpbrk(v, ",\"\r\n") != NULL;

	if (quote)
		tgm_buf_addc(b, '"');
	if (guard && strchr("=+-@\t\r", v[0]) && v[0])
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

static void next_batch(struct export *x);

/* on_flushed - the last batch reached the client: fetch the next */
static void on_flushed(struct evhttp_connection *conn, void *arg)
{
	next_batch(arg);
}

/* on_batch - one batch of rows: write them as CSV, or end the export */
static void on_batch(PGresult *res, const char *err, void *arg)
{
	struct export *x = arg;
	struct evbuffer *out;
	struct tgm_buf b;
	int rows;

	x->querying = false;
	if (x->gone || err) {
		if (err)
			log_warn("export: %s", err); /* the client sees a cut CSV */
		finish(x);
		return;
	}
	rows = PQntuples(res);
	tgm_buf_init(&b);
	for (int i = 0; i < rows; i++)
		for (int c = 0; c < 10; c++)
			cell(&b, PQgetvalue(res, i, c), c == 6 || c == 9, c == 9);
	if (rows > 0)
		snprintf(x->before, sizeof(x->before), "%s", PQgetvalue(res, rows - 1, 0));
	out = evbuffer_new();
	evbuffer_add(out, b.p ? b.p : "", b.len);
	tgm_buf_free(&b);
	if (rows < EXPORT_BATCH) {
		evhttp_send_reply_chunk(x->req, out);
		evbuffer_free(out);
		finish(x);
		return;
	}
	evhttp_send_reply_chunk_with_cb(x->req, out, on_flushed, x); /* then the next */
	evbuffer_free(out);
}

/* next_batch - query the batch before the last row sent */
static void next_batch(struct export *x)
{
	const char *p[4] = { x->tenant, x->bot, x->status, x->before };

	x->querying = true;
	tgm_pg_query(x->gw->ctx->db, batch_sql, 4, p, on_batch, x);
}

void gw_export_messages(struct gw_req *r)
{
	const char *bot = gw_query(r, "bot_id"), *status = gw_query(r, "status");
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	struct evbuffer *out;
	struct export *x;
	int64_t v;

	if (bot && (!tgm_parse_int64(bot, &v) || v <= 0)) {
		gw_reply_problem(r, 422, "invalid_parameter", "must be a positive integer", "bot_id");
		return;
	}
	x = tgm_xcalloc(1, sizeof(*x));
	x->gw = r->gw;
	x->req = r->req;
	x->conn = evhttp_request_get_connection(r->req);
	gw_tenant_param(r, x->tenant);
	x->bot = bot ? tgm_xstrdup(bot) : NULL;
	x->status = status ? tgm_xstrdup(status) : NULL;
	snprintf(x->before, sizeof(x->before), "%s", "9223372036854775807");
	evhttp_add_header(h, "Content-Type", "text/csv; charset=utf-8");
	evhttp_add_header(h, "Content-Disposition", "attachment; filename=\"messages.csv\"");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply_start(r->req, 200, "OK");
	evhttp_connection_set_closecb(x->conn, on_close, x);
	gw_req_free(r); /* the stream is the export's now */
	out = evbuffer_new();
	evbuffer_add(out, header, strlen(header));
	evhttp_send_reply_chunk(x->req, out);
	evbuffer_free(out);
	next_batch(x);
}
