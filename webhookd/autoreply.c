/*
 * autoreply.c - what happens to a user's private message that is not a command before
 * the bridge relays it: the flood check (above the bot's flood_per_minute the message
 * is stored but neither relayed nor answered, and the admin group is told once per
 * episode: ar_flood in SQL), then the bot's auto-reply rules: keywords are matched
 * here (exact, contains, or a bounded regular expression) and each candidate's
 * sendMessage of the rule's text made here, its variables filled for the user; the
 * first candidate that may answer answers (ar_fire in SQL: greeting, office hours,
 * once per user per window; queued at high priority). Each bot's rules are cached,
 * dropped when gatewayd announces a change on channel tgm_autoreplies, and read again
 * after a minute anyway.
 */
#include "webhookd/job.h"
#include "common/botset.h"
#include "common/buf.h"
#include "common/dbconn.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/rematch.h"
#include "common/text.h"
#include "common/uservars.h"
#include "common/utf8.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CACHE_MS 60000
#define AR_TEXT_MAX 4096 /* UTF-16 code units of a message, as Telegram counts */

static const char load_sql[] =
	"SELECT id, kind, coalesce(match, ''), coalesce(pattern, ''), text FROM autoreplies"
	" WHERE bot_id = $1 AND enabled ORDER BY position, id";

static const char flood_sql[] =
	"SELECT flooding, tell FROM ar_flood($1, $2, $3, coalesce(to_timestamp($4::bigint),"
	" now()), $5::int)";

static const char fire_sql[] =
	"SELECT rule_id, message_id FROM ar_fire($1, $2, $3, coalesce(to_timestamp($4::bigint),"
	" now()), $5::bigint[], $6::jsonb)";

enum ar_kind { AR_KEYWORD, AR_HOURS, AR_GREETING };
enum ar_match { AR_EXACT, AR_CONTAINS, AR_REGEX };

struct ar_rule {
	int64_t id;
	enum ar_kind kind;
	enum ar_match match;
	char *pattern;
	char *text;            /* the owner's answer */
	struct tgm_rematch re; /* a regex keyword's; holds nothing when it did not compile */
};

/* ar_rules - one bot's enabled rules in order, as last read */
struct ar_rules {
	int64_t bot_id;
	unsigned gen; /* bumped by each announcement: a read begun before it is stale */
	bool loaded;
	int64_t loaded_ms; /* monotonic */
	struct ar_rule *r;
	size_t n;
};

struct wh_autoreply {
	struct ar_rules **bots;
	size_t n, cap;
	struct tgm_pg *listen_pg; /* a session of its own: a connection LISTENs on one channel */
	uint64_t answered, held;  /* auto-replies queued, messages held back as a flood */
};

/* rules_clear - free a cache entry's rules; it is unloaded */
static void rules_clear(struct ar_rules *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		tgm_rematch_free(&rs->r[i].re);
		free(rs->r[i].pattern);
		free(rs->r[i].text);
	}
	free(rs->r);
	rs->r = NULL;
	rs->n = 0;
	rs->loaded = false;
}

/* entry - the bot's cache entry, made empty on first need */
static struct ar_rules *entry(struct wh_autoreply *ar, int64_t bot_id)
{
	for (size_t i = 0; i < ar->n; i++)
		if (ar->bots[i]->bot_id == bot_id)
			return ar->bots[i];
	if (ar->n == ar->cap) {
		ar->cap = ar->cap ? ar->cap * 2 : 16;
		ar->bots = tgm_xrealloc(ar->bots, ar->cap * sizeof(*ar->bots));
	}
	ar->bots[ar->n] = tgm_xcalloc(1, sizeof(**ar->bots));
	ar->bots[ar->n]->bot_id = bot_id;
	return ar->bots[ar->n++];
}

/* rule_fill - one row of load_sql; a pattern that no longer compiles matches nothing */
static void rule_fill(struct ar_rule *r, PGresult *res, int i)
{
	const char *kind = PQgetvalue(res, i, 1), *match = PQgetvalue(res, i, 2);
	char err[160];

	tgm_parse_int64(PQgetvalue(res, i, 0), &r->id);
	r->kind = strcmp(kind, "keyword") == 0 ? AR_KEYWORD
		  : strcmp(kind, "hours") == 0 ? AR_HOURS
					       : AR_GREETING;
	r->match = strcmp(match, "regex") == 0      ? AR_REGEX
		   : strcmp(match, "contains") == 0 ? AR_CONTAINS
						    : AR_EXACT;
	r->pattern = tgm_xstrdup(PQgetvalue(res, i, 3));
	r->text = tgm_xstrdup(PQgetvalue(res, i, 4));
	if (r->kind == AR_KEYWORD && r->match == AR_REGEX) {
		if (!tgm_rematch_compile(&r->re, r->pattern, err, sizeof(err)))
			log_warn("auto-reply rule %lld: %s", (long long)r->id, err);
	}
}

/* rules_fill - the rules of load_sql's answer into rs, loaded now */
static void rules_fill(struct ar_rules *rs, PGresult *res)
{
	rules_clear(rs);
	rs->n = (size_t)PQntuples(res);
	rs->r = tgm_xcalloc(rs->n ? rs->n : 1, sizeof(*rs->r));
	for (size_t i = 0; i < rs->n; i++)
		rule_fill(&rs->r[i], res, (int)i);
	rs->loaded = true;
	rs->loaded_ms = tgm_mono_ms();
}

/* trimmed_equal - text, without the white space around it, is pattern (ASCII case
 * folded) */
static bool trimmed_equal(const char *text, const char *pattern)
{
	size_t n;

	text += strspn(text, " \t\r\n");
	n = strlen(text);
	while (n > 0 && strchr(" \t\r\n", text[n - 1]))
		n--;
	return n == strlen(pattern) && strncasecmp(text, pattern, n) == 0;
}

/* rule_matches - r is a candidate for text (NULL: a message without text) */
static bool rule_matches(struct ar_rule *r, const char *text)
{
	if (r->kind != AR_KEYWORD)
		return true; /* greeting and office hours: SQL decides */
	if (text == NULL)
		return false;
	if (r->match == AR_EXACT)
		return trimmed_equal(text, r->pattern);
	if (r->match == AR_CONTAINS)
		return strcasestr(text, r->pattern) != NULL;
	return tgm_rematch_run(&r->re, text);
}

/* answer_text - a rule's text made for the message's sender (common/uservars.c:
 * {first_name}, {last_name}, {username}, {name}, {bot_name}, {user_id}), cut to what
 * Telegram takes (a rule's text is checked, not what long names make of it); caller frees */
static char *answer_text(const struct wh_job *j, const char *text)
{
	const char *from[] = { "from", NULL };
	yajl_val who = j->msg ? yajl_tree_get(j->msg, from, yajl_t_object) : NULL;
	char *made = tgm_uservars_fill(
		text, &(struct tgm_uservars){ who ? tgm_json_get_str(who, "first_name") : NULL,
					      who ? tgm_json_get_str(who, "last_name") : NULL,
					      who ? tgm_json_get_str(who, "username") : NULL,
					      j->bot ? j->bot->name : NULL, j->user_id });

	tgm_utf16_truncate(made, AR_TEXT_MAX);
	return made;
}

/* candidates - the rules that match, in order: their ids as a PostgreSQL array and
 * the sendMessage each would queue (its text made for the user), as a JSON array;
 * false when none does */
static bool candidates(const struct ar_rules *rs, const struct wh_job *j, struct tgm_buf *ids,
		       yajl_gen params)
{
	char id[24];
	bool any = false;

	tgm_buf_init(ids);
	yajl_gen_array_open(params);
	for (size_t i = 0; i < rs->n; i++)
		if (rule_matches(&rs->r[i], j->text)) {
			snprintf(id, sizeof(id), "%lld", (long long)rs->r[i].id);
			tgm_pgarr_add(ids, id);
			yajl_gen_map_open(params);
			char *text = answer_text(j, rs->r[i].text);

			tgm_jgen_kint(params, "chat_id", j->user_id);
			tgm_jgen_kstr(params, "text", text);
			free(text);
			yajl_gen_map_close(params);
			any = true;
		}
	tgm_pgarr_end(ids);
	yajl_gen_array_close(params);
	return any;
}

/* job_params - bot, user, update seq and the message's date (NULL: none) */
static void job_params(const struct wh_job *j, char txt[4][24], const char *p[4])
{
	int64_t v[4] = { j->bot_id, j->user_id, j->seq, 0 };

	if (!tgm_json_get_int(j->msg, "date", &v[3]))
		v[3] = 0;
	for (int i = 0; i < 4; i++) {
		snprintf(txt[i], 24, "%lld", (long long)v[i]);
		p[i] = txt[i];
	}
	if (v[3] <= 0)
		p[3] = NULL;
}

/* on_fired - ar_fire answered: ring senderd if it queued, then relay */
static void on_fired(struct wh_job *j, PGresult *res, const char *err)
{
	if (err) {
		wh_job_postpone(j, j->attempts, err);
		return;
	}
	if (PQntuples(res) == 1) {
		log_debug("bot=%lld user=%lld: auto-reply rule %s answers (message %s)",
			  (long long)j->bot_id, (long long)j->user_id, PQgetvalue(res, 0, 0),
			  PQgetvalue(res, 0, 1));
		wh_ring(j->wh, j->bot_id);
		j->wh->autoreply->answered++;
	}
	wh_relay_user(j);
}

/* evaluate - the rules as cached: fire the first candidate that may, then relay */
static void evaluate(struct wh_job *j, const struct ar_rules *rs)
{
	char txt[4][24];
	const char *p[6];
	struct tgm_buf ids;
	yajl_gen params = tgm_jgen_new();
	bool any = candidates(rs, j, &ids, params);

	if (any) {
		job_params(j, txt, p);
		p[4] = ids.p;
		p[5] = tgm_jgen_text(params, NULL);
		wh_job_query(j, fire_sql, 6, p, on_fired);
	}
	tgm_buf_free(&ids);
	yajl_gen_free(params);
	if (!any)
		wh_relay_user(j);
}

/* on_loaded - the bot's rules were read: cache them unless stale, then evaluate */
static void on_loaded(struct wh_job *j, PGresult *res, const char *err)
{
	struct ar_rules *rs = entry(j->wh->autoreply, j->bot_id), fresh;

	if (err) {
		wh_job_postpone(j, j->attempts, err);
		return;
	}
	if (rs->gen == j->ar_gen) { /* no announcement since the read began */
		rules_fill(rs, res);
		evaluate(j, rs);
		return;
	}
	memset(&fresh, 0, sizeof(fresh));
	rules_fill(&fresh, res); /* newer than the cache could say, but not to be kept */
	evaluate(j, &fresh);
	rules_clear(&fresh);
}

/* rules_then_evaluate - the bot's rules from the cache, or read first */
static void rules_then_evaluate(struct wh_job *j)
{
	struct ar_rules *rs = entry(j->wh->autoreply, j->bot_id);
	char bot[24];
	const char *p[1] = { bot };

	if (rs->loaded && tgm_mono_ms() - rs->loaded_ms < CACHE_MS) {
		evaluate(j, rs);
		return;
	}
	j->ar_gen = rs->gen;
	snprintf(bot, sizeof(bot), "%lld", (long long)j->bot_id);
	wh_job_query(j, load_sql, 1, p, on_loaded);
}

/* tell_admins - the flood notice, in the admin group's general topic */
static void tell_admins(struct wh_job *j, int64_t rate)
{
	int64_t admin = tgm_botset_int(j->bot->settings, "admin_chat_id");
	const char *path[] = { "from", "first_name", NULL };
	yajl_val first = yajl_tree_get(j->msg, path, yajl_t_string);
	char user[24], r[24], text[1024];

	if (admin == 0)
		return;
	snprintf(user, sizeof(user), "%lld", (long long)j->user_id);
	snprintf(r, sizeof(r), "%lld", (long long)rate);
	tgm_text_fill(text, sizeof(text), wh_say_admin(j, "flood_admin"),
		      (const char *const[]){ "first_name", first ? YAJL_GET_STRING(first) : "",
					     "user_id", user, "rate", r, NULL });
	wh_reply_text(j, admin, 0, text, NULL, NULL, 0);
}

/* on_flood - ar_flood answered: hold a flood (telling the admins once), else go on */
static void on_flood(struct wh_job *j, PGresult *res, const char *err)
{
	if (err) {
		wh_job_postpone(j, j->attempts, err);
		return;
	}
	if (PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't') {
		if (PQgetvalue(res, 0, 1)[0] == 't')
			tell_admins(j, tgm_botset_int(j->bot->settings, "flood_per_minute"));
		j->wh->autoreply->held++;
		wh_job_done(j, "flood: stored, neither relayed nor answered");
		return;
	}
	rules_then_evaluate(j);
}

void wh_autoreply(struct wh_job *j)
{
	int64_t rate = tgm_botset_int(j->bot->settings, "flood_per_minute");
	char txt[4][24], r[24];
	const char *p[5];

	if (j->user_id == 0) { /* not a person (a bot): never answered, never counted */
		wh_relay_user(j);
		return;
	}
	if (rate <= 0) {
		rules_then_evaluate(j);
		return;
	}
	job_params(j, txt, p);
	snprintf(r, sizeof(r), "%lld", (long long)rate);
	p[4] = r;
	wh_job_query(j, flood_sql, 5, p, on_flood);
}

/* forget - the bot's cache entry is stale; a read in flight is too */
static void forget(struct ar_rules *rs)
{
	rs->gen++;
	rules_clear(rs);
}

/* on_notify - tgm_autoreplies: a bot's rules changed (no payload: a reconnect) */
static void on_notify(const char *payload, void *arg)
{
	struct wh_autoreply *ar = arg;
	int64_t id = 0;

	if (payload != NULL && tgm_parse_int64(payload, &id) && id > 0) {
		forget(entry(ar, id));
		return;
	}
	for (size_t i = 0; i < ar->n; i++) /* a reconnect: anything may have changed */
		forget(ar->bots[i]);
}

void wh_autoreply_start(struct webhookd *wh)
{
	struct wh_autoreply *ar = tgm_xcalloc(1, sizeof(*ar));

	wh->autoreply = ar;
	ar->listen_pg = tgm_dbconn_async(wh->ctx->base, wh->ctx->cfg, "webhookd-autoreplies",
					 TGM_DBCONN_SESSION);
	tgm_pg_listen(ar->listen_pg, "tgm_autoreplies", on_notify, ar);
}

void wh_autoreply_metrics(const struct webhookd *wh, struct evbuffer *out)
{
	tgm_metrics_one(out, "tgm_webhookd_autoreplies_total", "counter", "auto-replies queued",
			wh->autoreply->answered);
	tgm_metrics_one(out, "tgm_webhookd_flood_held_total", "counter",
			"user messages stored but neither relayed nor answered (flood)",
			wh->autoreply->held);
}

void wh_autoreply_free(struct webhookd *wh)
{
	struct wh_autoreply *ar = wh->autoreply;

	if (ar == NULL)
		return;
	for (size_t i = 0; i < ar->n; i++) {
		rules_clear(ar->bots[i]);
		free(ar->bots[i]);
	}
	free(ar->bots);
	tgm_pg_free(ar->listen_pg);
	free(ar);
	wh->autoreply = NULL;
}
