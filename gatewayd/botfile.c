/*
 * botfile.c - file downloads of the Bot API endpoint, GET /file/bot<token>/<path>:
 * the bytes of Telegram's own file endpoint streamed through as they arrive, never
 * held whole. While the client's connection has more than HIGH_WATER bytes unsent,
 * the download from Telegram pauses; it resumes once they drain under LOW_WATER. A
 * Telegram answer other than 200 (a JSON error) is passed on whole, status unchanged;
 * a client that hangs up ends the download. A caller may ask for a copy of a small
 * file as it goes by (the inbox's media cache, inboxmedia.c).
 */
#include "gatewayd/gatewayd.h"
#include "common/httpc.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIGH_WATER (1024 * 1024)
#define LOW_WATER (256 * 1024)
#define ERROR_MAX (64 * 1024) /* an error answer kept to be passed on whole */
#define DOWNLOAD_TIMEOUT_MS (15 * 60 * 1000)

static const char bad_gateway[] =
	"{\"ok\":false,\"error_code\":502,\"description\":\"Bad Gateway\"}";

/* dl - one download, from the lookup to its end */
struct dl {
	struct gw_req *r;
	struct evhttp_connection *conn;
	struct tgm_httpc_xfer *x;
	struct evbuffer *out;  /* scratch for one chunk */
	struct evbuffer *kept; /* a non-200 answer's body */
	long status;
	char *type;
	bool streaming, gone, paused;
	struct gatewayd *gw;
	struct evbuffer *copy; /* the file's copy, while it fits in keep_max */
	size_t keep_max;
	gw_botfile_kept_cb keep_cb; /* called once, from dl_free, when set */
	void *keep_arg;
};

/* unsent - bytes the client has not taken yet */
static size_t unsent(struct dl *d)
{
	return evbuffer_get_length(
		bufferevent_get_output(evhttp_connection_get_bufferevent(d->conn)));
}

/* on_flushed - a chunk went out: resume a paused download once the client caught up */
static void on_flushed(struct evhttp_connection *conn, void *arg)
{
	struct dl *d = arg;

	if (d->paused && !d->gone && unsent(d) < LOW_WATER) {
		d->paused = false;
		tgm_httpc_resume(d->x);
	}
}

/* on_close - the client hung up mid-stream: libevent let go of the request, ending
 * it frees it; the download is aborted at its next bytes */
static void on_close(struct evhttp_connection *conn, void *arg)
{
	struct dl *d = arg;
	struct evhttp_request *req = d->r->req;

	d->gone = true;
	evhttp_connection_set_closecb(conn, NULL, NULL);
	if (evhttp_request_get_connection(req) == NULL)
		evhttp_send_reply_end(req);
	if (d->paused) {
		d->paused = false;
		tgm_httpc_resume(d->x);
	}
}

/* on_head - Telegram's status and headers: a 200 starts the stream to the client, else
 * the answer is kept to be passed on whole */
static void on_head(long status, const char *type, long long length, void *arg)
{
	struct dl *d = arg;
	struct evkeyvalq *h = evhttp_request_get_output_headers(d->r->req);
	char len[24];

	d->status = status;
	d->type = type ? tgm_xstrdup(type) : NULL;
	if (status != 200) {
		d->kept = evbuffer_new();
		return;
	}
	evhttp_add_header(h, "Content-Type", type ? type : "application/octet-stream");
	if (length >= 0) {
		snprintf(len, sizeof(len), "%lld", length);
		evhttp_add_header(h, "Content-Length", len);
	}
	d->streaming = true;
	d->conn = evhttp_request_get_connection(d->r->req);
	tgm_http_stream_start(d->r->req);
	evhttp_connection_set_closecb(d->conn, on_close, d);
}

/* on_data - bytes of the file: kept (an error answer, up to ERROR_MAX) or sent on as a
 * chunk; pauses while the client is behind, aborts once it has left */
static int on_data(const char *data, size_t len, void *arg)
{
	struct dl *d = arg;

	if (d->gone)
		return TGM_HTTPC_ABORT;
	if (!d->streaming) {
		if (evbuffer_get_length(d->kept) + len > ERROR_MAX)
			return TGM_HTTPC_ABORT;
		evbuffer_add(d->kept, data, len);
		return TGM_HTTPC_MORE;
	}
	if (d->copy && evbuffer_get_length(d->copy) + len <= d->keep_max)
		evbuffer_add(d->copy, data, len);
	else if (d->copy)
		evbuffer_free(d->copy), d->copy = NULL; /* too big to keep */
	evbuffer_add(d->out, data, len);
	evhttp_send_reply_chunk_with_cb(d->r->req, d->out, on_flushed, d);
	d->paused = unsent(d) > HIGH_WATER;
	return d->paused ? TGM_HTTPC_PAUSE : TGM_HTTPC_MORE;
}

static const struct tgm_httpc_sink sink = { on_head, on_data };

/* dl_free - hand the copy over (or say there is none), then free a download, its
 * buffers and its request; complete: the file arrived whole and went out */
static void dl_free(struct dl *d, bool complete)
{
	bool whole = complete && d->copy && d->streaming && !d->gone;

	if (d->keep_cb)
		d->keep_cb(d->gw, d->type ? d->type : "application/octet-stream",
			   whole ? evbuffer_pullup(d->copy, -1) : NULL,
			   whole ? evbuffer_get_length(d->copy) : 0, d->keep_arg);
	if (d->copy)
		evbuffer_free(d->copy);
	if (d->kept)
		evbuffer_free(d->kept);
	evbuffer_free(d->out);
	free(d->type);
	gw_req_free(d->r);
	free(d);
}

/* on_done - the download ended: end the stream, or pass on what Telegram answered */
static void on_done(const struct tgm_httpc_resp *resp, void *arg)
{
	struct dl *d = arg;
	struct evhttp_request *req = d->r->req;

	if (resp->error && !d->gone)
		log_warn("botapi: file download: %s", resp->error);
	if (d->gone) {
		/* the client left: its request is gone already */
	} else if (d->streaming) {
		evhttp_connection_set_closecb(d->conn, NULL, NULL);
		evhttp_send_reply_end(req);
	} else if (d->kept && !resp->error) {
		tgm_http_reply(req, (int)d->status, d->type ? d->type : "application/json",
			       (const char *)evbuffer_pullup(d->kept, -1),
			       evbuffer_get_length(d->kept));
	} else if (!resp->error && resp->status > 0) {
		tgm_http_reply(req, (int)resp->status, NULL, "", 0); /* an empty body */
	} else {
		tgm_http_reply(req, 502, "application/json", bad_gateway, strlen(bad_gateway));
	}
	dl_free(d, !resp->error && d->status == 200);
}

void gw_botfile_stream_keep(struct gw_req *r, const char *token, const char *path, size_t max,
			    gw_botfile_kept_cb kept, void *arg)
{
	const char *api = r->gw->ctx->cfg->telegram.api_url;
	struct dl *d = tgm_xcalloc(1, sizeof(*d));
	size_t n = strlen(api);
	char *url;

	while (n > 0 && api[n - 1] == '/')
		n--;
	url = tgm_xasprintf("%.*s/file/bot%s/%s", (int)n, api, token, path);
	d->r = r;
	d->gw = r->gw;
	d->out = evbuffer_new();
	d->keep_cb = kept;
	d->keep_arg = arg;
	d->keep_max = max;
	d->copy = kept && max > 0 ? evbuffer_new() : NULL;
	d->x = tgm_httpc_stream(r->gw->httpc_files, url, NULL, DOWNLOAD_TIMEOUT_MS, &sink, on_done,
				d);
	free(url);
}

void gw_botfile_stream(struct gw_req *r, const char *token, const char *path)
{
	gw_botfile_stream_keep(r, token, path, 0, NULL, NULL);
}

void gw_botfile(struct gw_req *r)
{
	const char *dir = tgm_http_param(&r->params, "dir");
	const char *file = tgm_http_param(&r->params, "file");
	char *path = tgm_xasprintf("%s%s%s", dir ? dir : "", dir ? "/" : "", file);

	gw_botfile_stream(r, tgm_http_param(&r->params, "token"), path);
	free(path);
}
