/*
 * inboxupload.c - POST /v1/conversations/{id}/media: an agent's reply with a file
 * uploaded from the browser (multipart/form-data: file, and optionally caption and
 * reply_to_message_id). Its Content-Type picks the method (an image goes as sendPhoto,
 * a GIF as sendAnimation, a video as sendVideo, Ogg audio as sendVoice, other audio as
 * sendAudio, the rest as sendDocument); it is queued at `high` priority like a Bot API
 * upload (messages.botapi, the file in botapi_files: senderd/upload.c sends it as
 * multipart), with the inbox's metadata, and the conversation is marked read and active.
 */
#include "gatewayd/inbox.h"
#include "common/multipart.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PARTS 4
#define CAPTION_MAX 1024

/* $1 conversation, $2 tenant, $3 method, $4 more params, $5 metadata, $6..$9 the file */
static const char queue_sql[] =
	"WITH c AS (UPDATE conversations SET last_activity_at = now(), unread = 0"
	"  WHERE id = $1 AND tenant_id = $2 RETURNING id, tenant_id, bot_id, chat_id),"
	" m AS (INSERT INTO messages (tenant_id, bot_id, chat, method, params, priority, botapi,"
	"  metadata) SELECT c.tenant_id, c.bot_id, c.chat_id::text, $3,"
	"  jsonb_build_object('chat_id', c.chat_id) || $4::jsonb, 0, true, $5::jsonb FROM c"
	"  RETURNING id, bot_id),"
	" f AS (INSERT INTO botapi_files (message_id, field, filename, content_type, data)"
	"  SELECT m.id, $6, $7, nullif($8, ''), decode($9, 'hex') FROM m)"
	" SELECT m.id, m.bot_id FROM m";

/* kind - the method and its file field for a Content-Type */
static void kind(const char *type, const char **method, const char **field)
{
	static const struct { const char *prefix, *method, *field; } kinds[] = {
		{ "image/gif", "sendAnimation", "animation" },
		{ "image/jpeg", "sendPhoto", "photo" }, { "image/png", "sendPhoto", "photo" },
		{ "image/webp", "sendPhoto", "photo" }, { "video/", "sendVideo", "video" },
		{ "audio/ogg", "sendVoice", "voice" }, { "audio/", "sendAudio", "audio" },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncasecmp(type, kinds[i].prefix, strlen(kinds[i].prefix)) == 0) {
			*method = kinds[i].method;
			*field = kinds[i].field;
			return;
		}
	*method = "sendDocument";
	*field = "document";
}

/* on_queued - queue_sql answered: rings the bot's doorbell and answers 202 with the
 * message's id, status queued and the method; a 404 without the conversation */
static void on_queued(struct gw_req *r, PGresult *res, const char *err)
{
	int64_t id = 0, bot = 0;
	yajl_gen g;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) == 0) {
		gw_conv_missing(r);
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 0), &id);
	tgm_parse_int64(PQgetvalue(res, 0, 1), &bot);
	gw_ring(r->gw, bot, false);
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "id", id);
	tgm_jgen_kstr(g, "status", "queued");
	tgm_jgen_kstr(g, "method", (const char *)r->data);
	yajl_gen_map_close(g);
	gw_reply_json(r, 202, g);
}

/* more_params - caption and reply_parameters as a JSON object; caller frees */
static char *more_params(const struct tgm_mp_part *caption, int64_t reply_to)
{
	yajl_gen g = tgm_jgen_new();
	char *out;

	yajl_gen_map_open(g);
	if (caption) {
		tgm_jgen_key(g, "caption");
		tgm_jgen_strn(g, caption->data, caption->len);
	}
	if (reply_to > 0) {
		tgm_jgen_key(g, "reply_parameters");
		yajl_gen_map_open(g);
		tgm_jgen_kint(g, "message_id", reply_to);
		tgm_jgen_kbool(g, "allow_sending_without_reply", true);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	out = tgm_xstrdup(tgm_jgen_text(g, NULL));
	yajl_gen_free(g);
	return out;
}

/* find - the part named name, or NULL */
static const struct tgm_mp_part *find(const struct tgm_mp_part *parts, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(parts[i].name, name) == 0)
			return &parts[i];
	return NULL;
}

/* bad - a 422 about field */
static void bad(struct gw_req *r, const char *detail, const char *field)
{
	gw_reply_problem(r, 422, "invalid_field", detail, field);
}

/* check - the parts make a reply: a file, a caption of at most CAPTION_MAX bytes, a
 * positive reply_to_message_id; false after a 422 */
static bool check(struct gw_req *r, const struct tgm_mp_part *parts, int n, int64_t *reply_to)
{
	const struct tgm_mp_part *file = find(parts, n, "file"), *cap = find(parts, n, "caption");
	const struct tgm_mp_part *rt = find(parts, n, "reply_to_message_id");
	char num[24];

	if (file == NULL || !file->is_file || file->len == 0) {
		bad(r, "file (a non-empty file part) is required", "file");
		return false;
	}
	if (cap && (cap->len > CAPTION_MAX || memchr(cap->data, '\0', cap->len))) {
		bad(r, "caption must be text of at most 1024 bytes", "caption");
		return false;
	}
	*reply_to = 0;
	if (rt && (rt->len == 0 || rt->len >= sizeof(num) ||
		   (memcpy(num, rt->data, rt->len), num[rt->len] = '\0',
		    !tgm_parse_int64(num, reply_to)) || *reply_to <= 0)) {
		bad(r, "reply_to_message_id must be a positive integer", "reply_to_message_id");
		return false;
	}
	return true;
}

/* queue - insert the message and its file */
static void queue(struct gw_req *r, const struct tgm_mp_part *parts, int n, int64_t reply_to,
		  const char *conv, const char *tenant)
{
	const struct tgm_mp_part *file = find(parts, n, "file");
	const char *method, *field;
	char *more = more_params(find(parts, n, "caption"), reply_to), *meta, *hex;

	kind(file->content_type, &method, &field);
	r->data = tgm_xstrdup(method); /* for the answer */
	r->data_free = free;
	meta = r->account_id ? tgm_xasprintf("{\"source\":\"inbox\",\"conversation\":%s,"
					     "\"account\":%lld}", conv, (long long)r->account_id)
			     : tgm_xasprintf("{\"source\":\"inbox\",\"conversation\":%s,"
					     "\"key\":%lld}", conv, (long long)r->key_id);
	hex = tgm_xmalloc(2 * file->len + 1);
	tgm_hex_encode(file->data, file->len, hex);
	gw_query_sql(r, queue_sql, 9, (const char *const[]){ conv, tenant, method, more, meta,
		     field, file->filename[0] ? file->filename : field, file->content_type,
		     hex }, on_queued);
	free(hex);
	free(meta);
	free(more);
}

void gw_inboxupload(struct gw_req *r)
{
	const char *type = gw_header(r, "Content-Type");
	struct tgm_mp_part parts[MAX_PARTS];
	char conv[24], tenant[24], err[160];
	int64_t reply_to;
	int n;

	if (r->body != NULL || type == NULL || strncasecmp(type, "multipart/form-data", 19)) {
		gw_reply_problem(r, 415, "unsupported_media_type",
				 "send the file as multipart/form-data", NULL);
		return;
	}
	n = tgm_multipart_parse(type, r->body_text, r->body_len, parts, MAX_PARTS,
				(size_t)r->gw->ctx->cfg->gatewayd.botapi_max_body, err, sizeof(err));
	if (n < 0) {
		gw_reply_problem(r, 400, "bad_request", err, NULL);
		return;
	}
	if (!check(r, parts, n, &reply_to) || !gw_conv_path(r, conv, tenant))
		return;
	queue(r, parts, n, reply_to, conv, tenant);
}
