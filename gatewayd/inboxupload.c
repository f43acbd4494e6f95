/*
 * inboxupload.c - POST /v1/conversations/{id}/media: an agent's reply with a file
 * uploaded from the browser (multipart/form-data: file, and optionally caption and
 * reply_to_message_id). Its Content-Type picks the method (an image goes as sendPhoto,
 * a GIF as sendAnimation, a video as sendVideo, Ogg audio as sendVoice, other audio as
 * sendAudio, the rest as sendDocument); it is queued at `high` priority like a Bot API
 * upload (messages.botapi, the file in botapi_files: senderd/upload.c sends it as
 * multipart), with the inbox's metadata, and the conversation is marked read and active.
 * When the user has a forum topic in the bot's admin group, the same file goes there
 * too, its caption marked with the agent's name (inbox_reply_topic, or
 * inbox_file_topic without a caption). An Idempotency-Key works as on POST
 * /v1/messages (idem.c), the request's hash taken over its parts.
 */
#include "gatewayd/inbox.h"
#include "gatewayd/idem.h"
#include "common/crypto.h"
#include "common/multipart.h"
#include "common/text.h"
#include "common/utf8.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PARTS 4
#define CAPTION_MAX 1024

/* $3: the caller's account (NULL: an API key) */
/* clang-format off */
static const char find_sql[] =
	"SELECT c.bot_id, tp.admin_chat_id, tp.thread_id,"
	" (SELECT email FROM accounts WHERE id = $3), b.settings"
	" FROM conversations c JOIN bots b ON b.id = c.bot_id" GW_CONV_TOPIC
	" WHERE c.id = $1 AND c.tenant_id = $2";
/* clang-format on */

/* $1 conversation, $2 tenant, $3 method, $4 more params, $5 metadata, $6..$9 the file,
 * $10 $11 the Idempotency-Key and the request's hash (into message_keys first: a key
 * used meanwhile inserts no row, and then no message), $12 $13 the topic's chat and
 * params (NULL: no topic) */
static const char queue_sql[] =
	"WITH c AS (UPDATE conversations SET last_activity_at = now(), unread = 0"
	"  WHERE id = $1 AND tenant_id = $2 RETURNING id, tenant_id, bot_id, chat_id),"
	" n AS (SELECT nextval('messages_id_seq'::regclass) AS mid, c.tenant_id, c.bot_id,"
	"  c.chat_id FROM c),"
	" k AS (INSERT INTO message_keys (tenant_id, idempotency_key, message_id, request_hash)"
	"  SELECT n.tenant_id, $10, n.mid, decode($11, 'hex') FROM n WHERE $10::text IS NOT NULL"
	"  ON CONFLICT DO NOTHING RETURNING message_id),"
	" m AS (INSERT INTO messages (id, tenant_id, bot_id, chat, method, params, priority,"
	"  botapi, metadata, idempotency_key, request_hash) OVERRIDING SYSTEM VALUE"
	"  SELECT n.mid, n.tenant_id, n.bot_id, n.chat_id::text, $3, jsonb_build_object('chat_id',"
	"  n.chat_id) || $4::jsonb, 0, true, $5::jsonb, $10, decode($11, 'hex') FROM n"
	"  WHERE $10::text IS NULL OR n.mid IN (SELECT message_id FROM k)"
	"  RETURNING id, tenant_id, bot_id),"
	" f AS (INSERT INTO botapi_files (message_id, field, filename, content_type, data)"
	"  SELECT m.id, $6, $7, nullif($8, ''), decode($9, 'hex') FROM m),"
	" t AS (INSERT INTO messages (tenant_id, bot_id, chat, method, params, priority, botapi,"
	"  metadata) SELECT m.tenant_id, m.bot_id, $12::text, $3, jsonb_build_object('chat_id',"
	"  $12::text::bigint) || $13::jsonb, 0, true, $5::jsonb || '{\"topic\":true}' FROM m"
	"  WHERE $12::text IS NOT NULL RETURNING id),"
	" tf AS (INSERT INTO botapi_files (message_id, field, filename, content_type, data)"
	"  SELECT t.id, $6, $7, nullif($8, ''), decode($9, 'hex') FROM t)"
	" SELECT m.id, m.bot_id FROM m";

/* an upload between its statements; the parts point into the request's body */
struct upload {
	struct tgm_mp_part parts[MAX_PARTS];
	int n;
	int64_t reply_to;
	char conv[24], hash[65];
	const char *method, *field;
};

/* kind - the method and its file field for a Content-Type */
static void kind(const char *type, const char **method, const char **field)
{
	static const struct {
		const char *prefix, *method, *field;
	} kinds[] = {
		{ "image/gif", "sendAnimation", "animation" },
		{ "image/jpeg", "sendPhoto", "photo" },
		{ "image/png", "sendPhoto", "photo" },
		{ "image/webp", "sendPhoto", "photo" },
		{ "video/", "sendVideo", "video" },
		{ "audio/ogg", "sendVoice", "voice" },
		{ "audio/", "sendAudio", "audio" },
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

/* on_replay - the Idempotency-Key's message (idem.c's row): the first answer again */
static void on_replay(struct gw_req *r, PGresult *res)
{
	gw_idem_queued(r, PQgetvalue(res, 0, 0), "method", PQgetvalue(res, 0, 1));
}

/* on_queued - queue_sql answered: rings the bot's doorbell and answers; no row: the
 * Idempotency-Key was used meanwhile (its message answers), or the conversation is gone */
static void on_queued(struct gw_req *r, PGresult *res, const char *err)
{
	struct upload *up = r->data;
	int64_t bot = 0;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) == 0 && up->hash[0]) {
		gw_idem_find(r, up->hash, on_replay, gw_conv_missing);
		return;
	}
	if (PQntuples(res) == 0) {
		gw_conv_missing(r);
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 1), &bot);
	gw_ring(r->gw, bot, false);
	gw_idem_queued(r, PQgetvalue(res, 0, 0), "method", up->method);
}

/* more_params - caption, reply_parameters and message_thread_id (when positive) as a
 * JSON object; caller frees */
static char *more_params(const char *caption, size_t len, int64_t reply_to, int64_t thread)
{
	yajl_gen g = tgm_jgen_new();
	char *out;

	yajl_gen_map_open(g);
	if (thread > 0)
		tgm_jgen_kint(g, "message_thread_id", thread);
	if (caption) {
		tgm_jgen_key(g, "caption");
		tgm_jgen_strn(g, caption, len);
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
		    !tgm_parse_int64(num, reply_to)) ||
		   *reply_to <= 0)) {
		bad(r, "reply_to_message_id must be a positive integer", "reply_to_message_id");
		return false;
	}
	return true;
}

/* topic_params - the copy into the user's topic (row 0 of res found it): its params,
 * the caption marked with the agent's name; NULL without a topic. Caller frees */
static char *topic_params(const struct upload *up, PGresult *res)
{
	const struct tgm_mp_part *cap = find(up->parts, up->n, "caption");
	char text[CAPTION_MAX + 1], *caption = cap ? tgm_xstrndup(cap->data, cap->len) : NULL;
	int64_t thread = 0;

	if (PQgetisnull(res, 0, 2)) {
		free(caption);
		return NULL;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 2), &thread);
	gw_topiccopy(text, sizeof(text), PQgetvalue(res, 0, 4),
		     PQgetisnull(res, 0, 3) ? NULL : PQgetvalue(res, 0, 3), caption);
	free(caption);
	return more_params(text, strlen(text), 0, thread);
}

/* queue - insert the message and its file (and the topic's copy); row 0 of res is
 * find_sql's */
static void queue(struct gw_req *r, PGresult *res)
{
	struct upload *up = r->data;
	const struct tgm_mp_part *file = find(up->parts, up->n, "file");
	const struct tgm_mp_part *cap = find(up->parts, up->n, "caption");
	char *more = more_params(cap ? cap->data : NULL, cap ? cap->len : 0, up->reply_to, 0);
	char *topic = topic_params(up, res), *meta, *hex, tenant[24];

	gw_tenant_param(r, tenant);
	meta = r->account_id ? tgm_xasprintf("{\"source\":\"inbox\",\"conversation\":%s,"
					     "\"account\":%lld}",
					     up->conv, (long long)r->account_id)
			     : tgm_xasprintf("{\"source\":\"inbox\",\"conversation\":%s,"
					     "\"key\":%lld}",
					     up->conv, (long long)r->key_id);
	hex = tgm_xmalloc(2 * file->len + 1);
	tgm_hex_encode(file->data, file->len, hex);
	gw_query_sql(r, queue_sql, 13,
		     (const char *const[]){
			     up->conv, tenant, up->method, more, meta, up->field,
			     file->filename[0] ? file->filename : up->field, file->content_type,
			     hex, up->hash[0] ? r->idem_key : NULL, up->hash[0] ? up->hash : NULL,
			     topic ? PQgetvalue(res, 0, 1) : NULL, topic },
		     on_queued);
	free(hex);
	free(meta);
	free(more);
	free(topic);
}

/* on_found - find_sql answered: queue the upload, or a 404 */
static void on_found(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_conv_missing(r);
	else
		queue(r, res);
}

/* find_conv - the conversation, its topic and the agent's email */
static void find_conv(struct gw_req *r)
{
	struct upload *up = r->data;
	char tenant[24], account[24];

	gw_tenant_param(r, tenant);
	snprintf(account, sizeof(account), "%lld", (long long)r->account_id);
	gw_query_sql(r, find_sql, 3,
		     (const char *const[]){ up->conv, tenant, r->account_id ? account : NULL },
		     on_found);
}

/* upload_hash - the request's hash for its Idempotency-Key: the conversation, the
 * caption, reply_to_message_id and the file's name, type and SHA-256 (a browser's
 * multipart boundary differs on each try, so the body itself is not hashed) */
static void upload_hash(struct upload *up)
{
	const struct tgm_mp_part *file = find(up->parts, up->n, "file");
	const struct tgm_mp_part *cap = find(up->parts, up->n, "caption");
	unsigned char d[TGM_SHA256_LEN];
	char hex[2 * TGM_SHA256_LEN + 1], scope[64];
	yajl_gen g = tgm_jgen_new();
	const char *text;
	size_t len;

	tgm_sha256(file->data, file->len, d);
	tgm_hex_encode(d, sizeof(d), hex);
	yajl_gen_map_open(g);
	if (cap) {
		tgm_jgen_key(g, "caption");
		tgm_jgen_strn(g, cap->data, cap->len);
	}
	tgm_jgen_kstr(g, "content_type", file->content_type);
	tgm_jgen_kstr(g, "filename", file->filename);
	tgm_jgen_kint(g, "reply_to_message_id", up->reply_to);
	tgm_jgen_kstr(g, "sha256", hex);
	yajl_gen_map_close(g);
	text = tgm_jgen_text(g, &len);
	snprintf(scope, sizeof(scope), "/v1/conversations/%s/media", up->conv);
	gw_idem_hash_text(text, len, scope, up->hash);
	yajl_gen_free(g);
}

void gw_inboxupload(struct gw_req *r)
{
	const char *type = gw_header(r, "Content-Type");
	struct upload *up = tgm_xcalloc(1, sizeof(*up));
	char tenant[24], err[160];

	r->data = up;
	r->data_free = free;
	if (r->body != NULL || type == NULL || strncasecmp(type, "multipart/form-data", 19)) {
		gw_reply_problem(r, 415, "unsupported_media_type",
				 "send the file as multipart/form-data", NULL);
		return;
	}
	up->n = tgm_multipart_parse(type, r->body_text, r->body_len, up->parts, MAX_PARTS,
				    (size_t)r->gw->ctx->cfg->gatewayd.botapi_max_body, err,
				    sizeof(err));
	if (up->n < 0) {
		gw_reply_problem(r, 400, "bad_request", err, NULL);
		return;
	}
	if (!check(r, up->parts, up->n, &up->reply_to) || !gw_conv_path(r, up->conv, tenant))
		return;
	kind(find(up->parts, up->n, "file")->content_type, &up->method, &up->field);
	if (r->idem_key[0] == '\0') {
		find_conv(r);
		return;
	}
	upload_hash(up);
	gw_idem_find(r, up->hash, on_replay, find_conv);
}
