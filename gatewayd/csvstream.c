/*
 * csvstream.c - a CSV answer of any size, streamed: the rows of one or more parts
 * (each a query paged by a cursor), CSV_BATCH at a time, each batch written out before
 * the next is read, so memory stays bounded and a client that stops reading stops
 * the export. Free text columns get the spreadsheet formula guard. Used by
 * inboxexport.c, export.c and campaignreport.c.
 */
#include "gatewayd/csvstream.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#define CSV_BATCH 1000
#define MAX_PARAMS 8

struct csv {
	struct gatewayd *gw;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	const struct gw_csv_part *parts;
	int nparts, part, nparams;
	char *params[MAX_PARAMS + 1]; /* the last: the cursor */
	bool querying, gone, detached;
};

/* csv_free - frees the stream's query parameters and the stream */
static void csv_free(struct csv *x)
{
	for (int i = 0; i <= x->nparams; i++)
		free(x->params[i]);
	free(x);
}

/* finish - the stream is over (done or the client left): let go of everything */
static void finish(struct csv *x)
{
	if (!x->gone)
		evhttp_connection_set_closecb(x->conn, NULL, NULL);
	if (!x->gone || x->detached)
		evhttp_send_reply_end(x->req); /* also frees a request libevent let go of */
	csv_free(x);
}

/* on_close - the client left: the stream ends now, or when its query in flight
 * answers */
static void on_close(struct evhttp_connection *conn, void *arg)
{
	struct csv *x = arg;

	x->gone = true;
	x->detached = evhttp_request_get_connection(x->req) == NULL;
	if (!x->querying)
		finish(x);
}

/* cell - one CSV field, quoted when needed; guarded text that a spreadsheet would run
 * as a formula (=, +, -, @ first) gets a leading ' */
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

static void next_batch(struct csv *x);

/* on_flushed - a batch is written out to the client: reads the next one */
static void on_flushed(struct evhttp_connection *conn, void *arg)
{
	next_batch(arg);
}

/* next_part - the part is done: the next one from its first cursor, or the end */
static bool next_part(struct csv *x)
{
	if (++x->part >= x->nparts)
		return false;
	free(x->params[x->nparams]);
	x->params[x->nparams] = tgm_xstrdup(x->parts[x->part].first);
	return true;
}

/* on_batch - a part's query answered: writes its rows as CSV, moves the cursor to the
 * last row, then reads the next batch (after the flush), the next part, or ends */
static void on_batch(PGresult *res, const char *err, void *arg)
{
	struct csv *x = arg;
	const struct gw_csv_part *p = &x->parts[x->part];
	struct evbuffer *out;
	struct tgm_buf b;
	int rows;

	x->querying = false;
	if (x->gone || err) {
		if (err)
			log_warn("csv export: %s", err); /* the client sees a cut CSV */
		finish(x);
		return;
	}
	rows = PQntuples(res);
	tgm_buf_init(&b);
	for (int i = 0; i < rows; i++)
		for (int c = 0; c < p->ncols; c++)
			cell(&b, PQgetvalue(res, i, c), p->guard & (1u << c), c == p->ncols - 1);
	if (rows > 0) {
		free(x->params[x->nparams]);
		x->params[x->nparams] = tgm_xstrdup(PQgetvalue(res, rows - 1, p->ncols));
	}
	out = evbuffer_new();
	evbuffer_add(out, b.p ? b.p : "", b.len);
	tgm_buf_free(&b);
	if (rows < CSV_BATCH && !next_part(x)) {
		evhttp_send_reply_chunk(x->req, out);
		evbuffer_free(out);
		finish(x);
		return;
	}
	if (evbuffer_get_length(out) == 0) { /* nothing to flush: no flush callback comes */
		evbuffer_free(out);
		next_batch(x);
		return;
	}
	evhttp_send_reply_chunk_with_cb(x->req, out, on_flushed, x); /* then the next */
	evbuffer_free(out);
}

/* next_batch - reads the next CSV_BATCH rows of the current part after its cursor
 * (on_batch answers) */
static void next_batch(struct csv *x)
{
	x->querying = true;
	tgm_pg_query(x->gw->ctx->db, x->parts[x->part].sql, x->nparams + 1,
		     (const char *const *)x->params, on_batch, x);
}

void gw_csv_stream(struct gw_req *r, const char *filename, const char *header,
		   const struct gw_csv_part *parts, int nparts, const char *const *params,
		   int nparams)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	struct csv *x = tgm_xcalloc(1, sizeof(*x));
	struct evbuffer *out;
	char disposition[128];

	x->gw = r->gw;
	x->req = r->req;
	x->conn = evhttp_request_get_connection(r->req);
	x->parts = parts;
	x->nparts = nparts;
	x->nparams = nparams < MAX_PARAMS ? nparams : MAX_PARAMS;
	for (int i = 0; i < x->nparams; i++)
		x->params[i] = params[i] ? tgm_xstrdup(params[i]) : NULL;
	x->params[x->nparams] = tgm_xstrdup(parts[0].first);
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", filename);
	evhttp_add_header(h, "Content-Type", "text/csv; charset=utf-8");
	evhttp_add_header(h, "Content-Disposition", disposition);
	evhttp_add_header(h, "Cache-Control", "no-store");
	tgm_http_stream_start(r->req);
	evhttp_connection_set_closecb(x->conn, on_close, x);
	gw_req_free(r); /* the stream is ours now */
	out = evbuffer_new();
	evbuffer_add(out, header, strlen(header));
	evhttp_send_reply_chunk(x->req, out);
	evbuffer_free(out);
	next_batch(x);
}
