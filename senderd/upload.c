/*
 * upload.c - a message with uploaded files (sent through the Bot API endpoint): its
 * files are read from botapi_files and it goes to Telegram as multipart/form-data, its
 * other parameters as fields (a string as it is, any other value as JSON text), as a
 * Bot API client sends an upload. The files stay until the message is deleted.
 */
#include "senderd/upload.h"
#include "senderd/senderd.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

struct upload {
	struct lane *l;
	int64_t msg_id;
	char *params;
	char *method;
	tgm_tg_cb cb;
	void *arg;
};

static const char files_sql[] =
	"SELECT field, filename, coalesce(content_type, 'application/octet-stream'),"
	" encode(data, 'hex') FROM botapi_files WHERE message_id = $1 ORDER BY field";

/* quoted - s for a quoted header parameter: '"', CR and LF as %22, %0D, %0A */
static void add_quoted(struct tgm_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '"')
			tgm_buf_adds(b, "%22");
		else if (*s == '\r')
			tgm_buf_adds(b, "%0D");
		else if (*s == '\n')
			tgm_buf_adds(b, "%0A");
		else
			tgm_buf_addc(b, *s);
	}
}

/* add_head - a form-data part's header up to its name */
static void add_head(struct tgm_buf *b, const char *boundary, const char *name)
{
	tgm_buf_printf(b, "--%s\r\nContent-Disposition: form-data; name=\"", boundary);
	add_quoted(b, name);
	tgm_buf_adds(b, "\"");
}

/* add_fields - the parameters, each a field */
static void add_fields(struct tgm_buf *b, const char *boundary, const char *params)
{
	char err[64];
	yajl_val v = tgm_json_parse(params, strlen(params), strlen(params), 64, err, sizeof(err));

	for (size_t i = 0; v && YAJL_IS_OBJECT(v) && i < v->u.object.len; i++) {
		yajl_val x = v->u.object.values[i];

		add_head(b, boundary, v->u.object.keys[i]);
		tgm_buf_adds(b, "\r\n\r\n");
		if (YAJL_IS_STRING(x)) {
			tgm_buf_adds(b, YAJL_GET_STRING(x));
		} else {
			yajl_gen g = tgm_jgen_new();
			size_t n;
			const char *t;

			tgm_jgen_tree(g, x);
			t = tgm_jgen_text(g, &n);
			tgm_buf_add(b, t, n);
			yajl_gen_free(g);
		}
		tgm_buf_adds(b, "\r\n");
	}
	yajl_tree_free(v);
}

/* add_files - the files of the query's rows */
static void add_files(struct tgm_buf *b, const char *boundary, PGresult *res)
{
	for (int i = 0; i < PQntuples(res); i++) {
		const char *hex = PQgetvalue(res, i, 3);
		size_t n = strlen(hex) / 2;
		unsigned char *data = tgm_xmalloc(n + 1);
		int len = tgm_hex_decode(hex, data, n);

		add_head(b, boundary, PQgetvalue(res, i, 0));
		tgm_buf_adds(b, "; filename=\"");
		add_quoted(b, PQgetvalue(res, i, 1));
		tgm_buf_adds(b, "\"\r\nContent-Type: ");
		add_quoted(b, PQgetvalue(res, i, 2));
		tgm_buf_adds(b, "\r\n\r\n");
		tgm_buf_add(b, (const char *)data, len > 0 ? (size_t)len : 0);
		tgm_buf_adds(b, "\r\n");
		free(data);
	}
}

/* on_files - a message's uploaded files were read: send them as multipart/form-data */
static void on_files(PGresult *res, const char *err, void *arg)
{
	struct upload *u = arg;
	struct lane *l = u->l;
	const struct tgm_config *cfg = l->sd->ctx->cfg;
	char boundary[40], type[80];
	struct tgm_buf b;

	if (err) { /* not sent: retried like a send that could not connect */
		struct tgm_tg_result r = { .transport_error = true, .retry_after = -1 };

		log_warn("bot=%lld msg=%lld files not read: %s", (long long)l->bot_id,
			 (long long)u->msg_id, err);
		r.description = "the uploaded files could not be read";
		u->cb(&r, u->arg);
	} else {
		snprintf(boundary, sizeof(boundary), "tgm%016llx%08x",
			 (unsigned long long)tgm_now_ms(), (unsigned)rand());
		snprintf(type, sizeof(type), "multipart/form-data; boundary=%s", boundary);
		tgm_buf_init(&b);
		add_fields(&b, boundary, u->params);
		add_files(&b, boundary, res);
		tgm_buf_printf(&b, "--%s--\r\n", boundary);
		tgm_tg_send(l->sd->httpc, cfg->telegram.api_url, l->token, u->method, type, b.p,
			    b.len, cfg->telegram.timeout * 1000, u->cb, u->arg);
		tgm_buf_free(&b);
	}
	free(u->params);
	free(u->method);
	free(u);
}

void upload_send(struct lane *l, const struct pending *p, const char *params, tgm_tg_cb cb,
		 void *arg)
{
	struct upload *u = tgm_xcalloc(1, sizeof(*u));
	char id[24];
	const char *q[1] = { id };

	u->l = l;
	u->msg_id = p->id;
	u->params = tgm_xstrdup(params);
	u->method = tgm_xstrdup(p->method);
	u->cb = cb;
	u->arg = arg;
	snprintf(id, sizeof(id), "%lld", (long long)p->id);
	tgm_pg_query(l->pg, files_sql, 1, q, on_files, u);
}
