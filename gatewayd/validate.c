/*
 * validate.c - one message request to a struct gw_msg (see validate.h).
 *
 * The rules are Telegram's own (docs/telegram.md section 3): text 1-4096 characters
 * counted in UTF-16 code units, caption up to 1024, chat ids as signed integers of at
 * most 53 bits or "@username", the three parse modes. Unknown fields are refused by
 * name, so a typo does not silently drop an option.
 */
#include "gatewayd/validate.h"
#include "common/utf8.h"
#include "common/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CHAT_ID 9007199254740991LL /* 2^53 - 1 */
#define TEXT_MAX 4096
#define CAPTION_MAX 1024
#define URL_MAX 2048
#define METADATA_MAX 4096
#define TTL_MAX (30 * 86400)

static const char *const known_fields[] = {
	"chat_id",         "text",
	"photo",           "document",
	"caption",         "parse_mode",
	"reply_markup",    "disable_notification",
	"protect_content", "message_thread_id",
	"bot_id",          "priority",
	"send_at",         "ttl_seconds",
	"callback_url",    "metadata",
	"idempotency_key", NULL,
};

/* fail - fill pb with the problem; false, for "return fail(...)" */
static bool fail(struct gw_problem *pb, int status, const char *type, const char *field,
		 const char *detail)
{
	pb->status = status;
	pb->type = type;
	snprintf(pb->field, sizeof(pb->field), "%s", field ? field : "");
	snprintf(pb->detail, sizeof(pb->detail), "%s", detail);
	return false;
}

/* invalid - a 422 invalid_field problem on field */
static bool invalid(struct gw_problem *pb, const char *field, const char *detail)
{
	return fail(pb, 422, "invalid_field", field, detail);
}

/* blank - s is empty or only white space */
static bool blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* is_http_url - an http:// or https:// URL with something after the scheme */
static bool is_http_url(const char *s)
{
	return (strncmp(s, "https://", 8) == 0 && s[8]) || (strncmp(s, "http://", 7) == 0 && s[7]);
}

/* check_unknown_fields - every key of item is a field we know */
static bool check_unknown_fields(yajl_val item, struct gw_problem *pb)
{
	for (size_t i = 0; i < item->u.object.len; i++) {
		const char *k = item->u.object.keys[i];
		bool known = false;

		for (int j = 0; known_fields[j] && !known; j++)
			known = strcmp(k, known_fields[j]) == 0;
		if (!known) {
			char d[128];
			snprintf(d, sizeof(d), "unknown field \"%.60s\"", k);
			return fail(pb, 422, "unknown_field", k, d);
		}
	}
	return true;
}

/* valid_username - "@name": 5 to 32 letters, digits or underscores */
static bool valid_username(const char *s)
{
	size_t n = strlen(s);

	if (s[0] != '@' || n < 6 || n > 33)
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* chat_of - the chat key and the chat_id to send, from the request's chat_id */
static bool chat_of(yajl_val v, struct gw_msg *m, yajl_gen g, struct gw_problem *pb)
{
	int64_t id;
	char num[24];

	if (v == NULL)
		return invalid(pb, "chat_id", "chat_id is required");
	if (YAJL_IS_STRING(v) && valid_username(v->u.string)) {
		m->chat = tgm_xstrdup(v->u.string);
		for (char *p = m->chat; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		tgm_jgen_kstr(g, "chat_id", v->u.string);
		return true;
	}
	if (YAJL_IS_INTEGER(v))
		id = YAJL_GET_INTEGER(v);
	else if (!YAJL_IS_STRING(v) || !tgm_parse_int64(v->u.string, &id))
		return invalid(pb, "chat_id", "chat_id must be an integer or \"@channelusername\"");
	if (id == 0 || id > MAX_CHAT_ID || id < -MAX_CHAT_ID)
		return invalid(pb, "chat_id", "chat_id is out of Telegram's range");
	snprintf(num, sizeof(num), "%lld", (long long)id);
	m->chat = tgm_xstrdup(num);
	tgm_jgen_kint(g, "chat_id", id);
	return true;
}

/* optional_string - *out is the string at key, or NULL when absent or null; false if not a
 * string */
static bool optional_string(yajl_val item, const char *key, const char **out, struct gw_problem *pb)
{
	yajl_val v = tgm_json_get(item, key);
	char d[96];

	*out = NULL;
	if (v == NULL || YAJL_IS_NULL(v))
		return true;
	if (!YAJL_IS_STRING(v)) {
		snprintf(d, sizeof(d), "%s must be a string", key);
		return invalid(pb, key, d);
	}
	*out = v->u.string;
	return true;
}

/* content - text, or photo/document with an optional caption; sets the method */
static bool content(yajl_val item, struct gw_msg *m, yajl_gen g, struct gw_problem *pb)
{
	const char *text, *photo, *document, *caption, *media, *kind;

	if (!optional_string(item, "text", &text, pb) ||
	    !optional_string(item, "photo", &photo, pb) ||
	    !optional_string(item, "document", &document, pb) ||
	    !optional_string(item, "caption", &caption, pb))
		return false;
	if (!!text + !!photo + !!document != 1)
		return invalid(pb, text ? "photo" : "text",
			       "give exactly one of text, photo or document");
	if (text) {
		if (blank(text))
			return invalid(pb, "text", "text must not be empty");
		if (tgm_utf16_length(text) > TEXT_MAX)
			return invalid(pb, "text", "text is longer than 4096 characters");
		if (caption)
			return invalid(pb, "caption", "caption goes with photo or document");
		m->method = tgm_xstrdup("sendMessage");
		tgm_jgen_kstr(g, "text", text);
		return true;
	}
	media = photo ? photo : document;
	kind = photo ? "photo" : "document";
	if (*media == '\0' || strlen(media) > URL_MAX ||
	    (strstr(media, "://") && !is_http_url(media)))
		return invalid(pb, kind, "must be a file_id or an http(s) URL");
	if (caption && tgm_utf16_length(caption) > CAPTION_MAX)
		return invalid(pb, "caption", "caption is longer than 1024 characters");
	m->method = tgm_xstrdup(photo ? "sendPhoto" : "sendDocument");
	tgm_jgen_kstr(g, kind, media);
	if (caption)
		tgm_jgen_kstr(g, "caption", caption);
	return true;
}

/* options - the Telegram options passed through after checking */
static bool options(yajl_val item, yajl_gen g, struct gw_problem *pb)
{
	const char *mode;
	yajl_val v;
	bool b;
	int64_t n;

	if (!optional_string(item, "parse_mode", &mode, pb))
		return false;
	if (mode && strcmp(mode, "MarkdownV2") && strcmp(mode, "Markdown") && strcmp(mode, "HTML"))
		return invalid(pb, "parse_mode", "parse_mode must be MarkdownV2, Markdown or HTML");
	if (mode)
		tgm_jgen_kstr(g, "parse_mode", mode);
	if ((v = tgm_json_get(item, "reply_markup")) && !YAJL_IS_NULL(v)) {
		if (!YAJL_IS_OBJECT(v))
			return invalid(pb, "reply_markup", "reply_markup must be an object");
		tgm_jgen_key(g, "reply_markup");
		tgm_jgen_tree(g, v);
	}
	static const char *const flags[] = { "disable_notification", "protect_content", NULL };
	for (int i = 0; flags[i]; i++) {
		if ((v = tgm_json_get(item, flags[i])) == NULL || YAJL_IS_NULL(v))
			continue;
		if (!tgm_json_get_bool(item, flags[i], &b))
			return invalid(pb, flags[i], "must be true or false");
		tgm_jgen_kbool(g, flags[i], b);
	}
	if ((v = tgm_json_get(item, "message_thread_id")) && !YAJL_IS_NULL(v)) {
		if (!tgm_json_get_int(item, "message_thread_id", &n) || n <= 0 || n > INT32_MAX)
			return invalid(pb, "message_thread_id", "must be a positive integer");
		tgm_jgen_kint(g, "message_thread_id", n);
	}
	return true;
}

/* digits - n decimal digits at s, as a number; -1 if any is not a digit */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* valid_zone - "Z", or "+HH:MM" / "-HH:MM" ending the string (PostgreSQL takes
 * offsets up to 15:59) */
static bool valid_zone(const char *p)
{
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		return true;
	return (*p == '+' || *p == '-') && digits(p + 1, 2) >= 0 && digits(p + 1, 2) < 16 &&
	       p[3] == ':' && digits(p + 4, 2) >= 0 && digits(p + 4, 2) < 60 && p[6] == '\0';
}

bool gw_valid_time(const char *s)
{
	int64_t epoch;

	return gw_parse_time(s, &epoch);
}

/* zone_seconds - the offset of a valid zone, in seconds east of UTC */
static int zone_seconds(const char *p)
{
	if (*p == 'Z' || *p == 'z')
		return 0;
	return (*p == '-' ? -1 : 1) * (digits(p + 1, 2) * 3600 + digits(p + 4, 2) * 60);
}

bool gw_parse_time(const char *s, int64_t *epoch)
{
	struct tm tm = { 0 };
	time_t t;
	int y, mo, d, h, mi, sec;
	const char *p;

	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
		return false;
	y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
	if (y < 1970 || mo < 1 || d < 1 || h < 0 || mi < 0 || sec < 0)
		return false;
	p = s + 19;
	if (*p == '.') { /* at most microseconds, as PostgreSQL keeps them */
		int n = 0;

		for (p++; isdigit((unsigned char)*p); p++)
			n++;
		if (n < 1 || n > 6)
			return false;
	}
	if (!valid_zone(p))
		return false;
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
	tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
	t = timegm(&tm); /* normalizes: a field out of range shows as a change */
	*epoch = (int64_t)t - zone_seconds(p);
	return tm.tm_mday == d && tm.tm_mon == mo - 1 && tm.tm_hour == h && tm.tm_min == mi &&
	       tm.tm_sec == sec;
}

/* schedule - priority, send_at, ttl_seconds */
static bool schedule(yajl_val item, struct gw_msg *m, struct gw_problem *pb)
{
	const char *prio, *at;
	yajl_val v;
	int64_t n;

	if (!optional_string(item, "priority", &prio, pb))
		return false;
	m->priority = 1;
	if (prio && !strcmp(prio, "high"))
		m->priority = 0;
	else if (prio && !strcmp(prio, "bulk"))
		m->priority = 2;
	else if (prio && strcmp(prio, "normal"))
		return invalid(pb, "priority", "priority must be high, normal or bulk");
	v = tgm_json_get(item, "send_at");
	if (v && YAJL_IS_INTEGER(v)) {
		char buf[40];
		time_t t = (time_t)YAJL_GET_INTEGER(v);
		struct tm tm;

		if (YAJL_GET_INTEGER(v) < 0 || YAJL_GET_INTEGER(v) > 253402300799LL)
			return invalid(pb, "send_at", "send_at is out of range");
		gmtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		m->send_at = tgm_xstrdup(buf);
	} else if (v && !YAJL_IS_NULL(v)) {
		if (!optional_string(item, "send_at", &at, pb) || !gw_valid_time(at))
			return invalid(pb, "send_at",
				       "send_at must be an RFC 3339 time"
				       " like 2026-11-23T12:00:00Z or Unix seconds");
		m->send_at = tgm_xstrdup(at);
	}
	if ((v = tgm_json_get(item, "ttl_seconds")) && !YAJL_IS_NULL(v)) {
		if (!tgm_json_get_int(item, "ttl_seconds", &n) || n < 1 || n > TTL_MAX)
			return invalid(pb, "ttl_seconds", "ttl_seconds must be 1 to 2592000");
		m->ttl_seconds = (int)n;
	}
	return true;
}

/* delivery - bot_id, callback_url, metadata, idempotency_key */
static bool delivery(yajl_val item, int64_t path_bot, struct gw_msg *m, struct gw_problem *pb)
{
	const char *url, *key;
	yajl_val v;

	m->bot_id = path_bot;
	if ((v = tgm_json_get(item, "bot_id")) && !YAJL_IS_NULL(v)) {
		if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) <= 0)
			return invalid(pb, "bot_id", "bot_id must be a positive integer");
		if (path_bot && YAJL_GET_INTEGER(v) != path_bot)
			return invalid(pb, "bot_id", "bot_id differs from the bot in the path");
		m->bot_id = YAJL_GET_INTEGER(v);
	}
	if (!optional_string(item, "callback_url", &url, pb))
		return false;
	if (url && (!is_http_url(url) || strlen(url) > URL_MAX))
		return invalid(pb, "callback_url", "callback_url must be an http(s) URL");
	m->callback_url = url ? tgm_xstrdup(url) : NULL;
	if ((v = tgm_json_get(item, "metadata")) && !YAJL_IS_NULL(v)) {
		yajl_gen g = tgm_jgen_new();
		size_t len;

		if (!YAJL_IS_OBJECT(v)) {
			yajl_gen_free(g);
			return invalid(pb, "metadata", "metadata must be an object");
		}
		tgm_jgen_tree(g, v);
		m->metadata = tgm_xstrdup(tgm_jgen_text(g, &len));
		yajl_gen_free(g);
		if (len > METADATA_MAX)
			return invalid(pb, "metadata", "metadata is larger than 4096 bytes");
	}
	if (!optional_string(item, "idempotency_key", &key, pb))
		return false;
	if (key && (*key == '\0' || strlen(key) > 255))
		return invalid(pb, "idempotency_key",
			       "idempotency_key must be 1 to 255 characters");
	m->idem_key = key ? tgm_xstrdup(key) : NULL;
	return true;
}

void gw_msg_free(struct gw_msg *m)
{
	if (m == NULL)
		return;
	free(m->chat);
	free(m->method);
	free(m->params);
	free(m->send_at);
	free(m->idem_key);
	free(m->callback_url);
	free(m->metadata);
	free(m);
}

struct gw_msg *gw_validate_message(yajl_val item, int64_t tenant_id, int64_t path_bot,
				   struct gw_problem *pb)
{
	struct gw_msg *m = tgm_xcalloc(1, sizeof(*m));
	yajl_gen g = tgm_jgen_new();
	bool ok;

	m->tenant_id = tenant_id;
	yajl_gen_map_open(g);
	ok = (YAJL_IS_OBJECT(item) || invalid(pb, NULL, "a message must be a JSON object")) &&
	     check_unknown_fields(item, pb) && chat_of(tgm_json_get(item, "chat_id"), m, g, pb) &&
	     content(item, m, g, pb) && options(item, g, pb) && schedule(item, m, pb) &&
	     delivery(item, path_bot, m, pb);
	yajl_gen_map_close(g);
	if (ok)
		m->params = tgm_xstrdup(tgm_jgen_text(g, NULL));
	yajl_gen_free(g);
	if (!ok) {
		gw_msg_free(m);
		return NULL;
	}
	return m;
}
