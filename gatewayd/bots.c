/*
 * bots.c - the tenant's bots: POST /v1/bots checks the token with getMe against the
 * configured Telegram API and stores it sealed (AES-256-GCM) and hashed; GET lists
 * bots with their health; GET/PATCH/DELETE one bot. Deleting a bot cancels its
 * queued messages in the same transaction.
 *
 * Settings are the bot's keys of common/botset.h (senderd's limits, webhookd's behaviour),
 * checked against that table; answers show them merged over every key's default.
 */
#include "gatewayd/gatewayd.h"
#include "gatewayd/choice.h"
#include "common/botset.h"
#include "common/crypto.h"
#include "common/httpc.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define GETME_TIMEOUT_MS 10000

/* the bot as JSON with its health, built by PostgreSQL from the counters kept by
 * sql/009_counters.sql (recent sends and failures to the second); the parameter
 * numbered d holds every setting's default (defaults_json), the stored settings win */
#define BOT_JSON(d) \
	"json_build_object('id', b.id, 'telegram_id', b.telegram_id, 'username', b.username," \
	" 'name', b.name, 'enabled', b.enabled, 'disabled_reason', b.disabled_reason," \
	" 'settings', " d "::jsonb || b.settings, 'created_at', b.created_at," \
	" 'queue_depth', (SELECT coalesce(sum(c.n), 0)::bigint FROM bot_status_counts c" \
	"   WHERE c.bot_id = b.id AND c.status IN ('queued', 'retrying', 'sending'))," \
	" 'sent_last_hour', (SELECT coalesce(sum(s.n), 0)::bigint FROM bot_done_seconds s" \
	"   WHERE s.bot_id = b.id AND s.status = 'sent'" \
	"   AND s.t >= date_trunc('second', now() - interval '1 hour'))," \
	" 'failed_last_hour', (SELECT coalesce(sum(s.n), 0)::bigint FROM bot_done_seconds s" \
	"   WHERE s.bot_id = b.id AND s.status = 'failed'" \
	"   AND s.t >= date_trunc('second', now() - interval '1 hour'))," \
	" 'sent_last_minute', (SELECT coalesce(sum(s.n), 0)::bigint FROM bot_done_seconds s" \
	"   WHERE s.bot_id = b.id AND s.status = 'sent'" \
	"   AND s.t >= date_trunc('second', now() - interval '1 minute'))," \
	" 'last_error', (SELECT e.error FROM bot_last_error e WHERE e.bot_id = b.id))"

static const char insert_sql[] =
	"WITH b AS (INSERT INTO bots (tenant_id, telegram_id, username, name, token_sealed,"
	"  token_hash, settings) VALUES ($1, $2, $3, $4, $5, decode($6, 'hex'), $7::jsonb)"
	"  RETURNING *) SELECT " BOT_JSON("$8") " FROM b";
/* clang-format off */
static const char list_sql[] =
	"SELECT json_build_object('bots', coalesce(json_agg(" BOT_JSON("$2") " ORDER BY b.id),"
	" '[]'))"
	" FROM bots b"
	" WHERE b.tenant_id = $1 AND b.deleted_at IS NULL";
static const char get_sql[] =
	"SELECT " BOT_JSON("$3") " FROM bots b WHERE b.id = $1 AND b.tenant_id = $2"
	" AND b.deleted_at IS NULL";
static const char update_sql[] =
	"WITH b AS (UPDATE bots SET name = coalesce($3, name), enabled = coalesce($4, enabled),"
	"  disabled_reason = CASE WHEN $4 THEN NULL ELSE disabled_reason END,"
	"  settings = settings || coalesce($5::jsonb, '{}'), updated_at = now()"
	"  WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL RETURNING *),"
	" a AS (SELECT " GW_AUDIT_SQL("$2", "b.id", "$7", "$8", "'bot.update'", "b.id::text",
				    "jsonb_strip_nulls(jsonb_build_object('name', $3::text,"
				    " 'enabled', $4::boolean, 'settings', $5::jsonb))") " FROM b)"
	" SELECT " BOT_JSON("$6") " FROM b WHERE (SELECT count(*) FROM a) >= 0";
/* clang-format on */
static const char delete_sql[] =
	"WITH b AS (UPDATE bots SET deleted_at = now(), enabled = false, updated_at = now()"
	"  WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL RETURNING id),"
	" c AS (UPDATE messages SET status = 'canceled', updated_at = now()"
	"  WHERE bot_id IN (SELECT id FROM b) AND status IN ('queued', 'retrying') RETURNING id),"
	" e AS (INSERT INTO message_events (message_id, status, detail)"
	"  SELECT id, 'canceled', 'bot deleted' FROM c),"
	" cb AS (SELECT queue_callbacks(array(SELECT id FROM c), 'canceled', 'bot deleted') n)"
	" SELECT (SELECT count(*) FROM b), (SELECT count(*) FROM c), (SELECT n FROM cb)";

/* pending bot registration while getMe runs */
struct new_bot {
	char *token;
	char *name;
	char *settings;
};

/* new_bot_free - wipe and free a bot being registered */
static void new_bot_free(void *data)
{
	struct new_bot *nb = data;

	if (nb->token)
		memset(nb->token, 0, strlen(nb->token));
	free(nb->token);
	free(nb->name);
	free(nb->settings);
	free(nb);
}

/* valid_token - "<digits>:<30+ of A-Za-z0-9_->", Telegram's shape */
static bool valid_token(const char *t)
{
	const char *colon = t ? strchr(t, ':') : NULL;
	size_t n;

	if (colon == NULL || colon == t || colon - t > 20 || t[0] == '0')
		return false;
	for (const char *p = t; p < colon; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	n = strlen(colon + 1);
	if (n < 30 || n > 80)
		return false;
	for (const char *p = colon + 1; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return false;
	return true;
}

/* check_settings - a settings object of known keys in range, as JSON text (caller frees) */
static char *check_settings(struct gw_req *r, yajl_val v)
{
	yajl_gen g;
	char *out, detail[512];

	if (v == NULL || YAJL_IS_NULL(v))
		return NULL;
	if (!tgm_botset_check(v, detail, sizeof(detail))) {
		gw_reply_problem(r, 422, "invalid_field", detail, "settings");
		return (char *)-1;
	}
	g = tgm_jgen_new();
	tgm_jgen_tree(g, v);
	out = tgm_xstrdup(tgm_jgen_text(g, NULL));
	yajl_gen_free(g);
	return out;
}

/* on_inserted - the bot's INSERT answered: 201, or 409 when it is registered already */
static void on_inserted(struct gw_req *r, PGresult *res, const char *err)
{
	if (err && PQresultErrorField(res, PG_DIAG_SQLSTATE) &&
	    strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23505") == 0)
		gw_reply_problem(r, 409, "bot_exists", "this bot is already registered", "token");
	else if (err)
		gw_reply_db_error(r, err);
	else {
		gw_choice_stale(r->gw->choice); /* the tenant's bots changed */
		gw_reply_raw(r, 201, PQgetvalue(res, 0, 0));
	}
}

/* store_bot - getMe said yes: seal the token and insert the bot */
static void store_bot(struct gw_req *r, yajl_val me)
{
	struct new_bot *nb = r->data;
	int64_t tg_id = 0;
	const char *username = tgm_json_get_str(me, "username");
	const char *first = tgm_json_get_str(me, "first_name");
	char tenant[24], tgid[24], aad[48], hash[65], *sealed;
	unsigned char d[TGM_SHA256_LEN];

	tgm_json_get_int(me, "id", &tg_id);
	snprintf(tgid, sizeof(tgid), "%lld", (long long)tg_id);
	snprintf(aad, sizeof(aad), "bot:%lld:token", (long long)tg_id);
	sealed = tgm_seal(r->gw->ctx->secret_key, nb->token, strlen(nb->token), aad);
	tgm_sha256(nb->token, strlen(nb->token), d);
	tgm_hex_encode(d, sizeof(d), hash);
	gw_tenant_param(r, tenant);
	{
		const char *p[8] = { tenant,
				     tgid,
				     username ? username : "",
				     nb->name ? nb->name : (first ? first : ""),
				     sealed,
				     hash,
				     nb->settings ? nb->settings : "{}",
				     tgm_botset_defaults_json() };
		gw_query_sql(r, insert_sql, 8, p, on_inserted);
	}
	free(sealed);
}

/* on_getme - Telegram's getMe for a new token: store the bot, or say why not */
static void on_getme(const struct tgm_tg_result *res, void *arg)
{
	struct gw_req *r = arg;
	char detail[300];

	if (res->ok && res->result && YAJL_IS_OBJECT(res->result)) {
		store_bot(r, res->result);
		return;
	}
	if (tgm_tg_classify(res) != TGM_TG_TOKEN_DEAD &&
	    tgm_tg_classify(res) != TGM_TG_BAD_REQUEST) {
		snprintf(detail, sizeof(detail), "Telegram could not check the token now: %s",
			 res->description ? res->description : "no answer");
		gw_reply_problem(r, 502, "telegram_unreachable", detail, NULL);
		return;
	}
	snprintf(detail, sizeof(detail), "Telegram refused the token: %s",
		 res->description ? res->description : "unknown reason");
	gw_reply_problem(r, 422, "invalid_token", detail, "token");
}

void gw_bots_create(struct gw_req *r)
{
	const char *token = tgm_json_get_str(r->body, "token");
	const char *name = tgm_json_get_str(r->body, "name");
	struct new_bot *nb;
	char *settings;

	if (!valid_token(token)) {
		gw_reply_problem(r, 422, "invalid_field",
				 "token must be a bot token from @BotFather (123456:ABC...)",
				 "token");
		return;
	}
	if (tgm_json_get(r->body, "name") && (name == NULL || strlen(name) > 200)) {
		gw_reply_problem(r, 422, "invalid_field",
				 "name must be a string of at most 200"
				 " characters",
				 "name");
		return;
	}
	settings = check_settings(r, tgm_json_get(r->body, "settings"));
	if (settings == (char *)-1)
		return;
	nb = tgm_xcalloc(1, sizeof(*nb));
	nb->token = tgm_xstrdup(token);
	nb->name = name ? tgm_xstrdup(name) : NULL;
	nb->settings = settings;
	r->data = nb;
	r->data_free = new_bot_free;
	tgm_tg_call(r->gw->httpc, r->gw->ctx->cfg->telegram.api_url, token, "getMe", "{}", 2,
		    GETME_TIMEOUT_MS, on_getme, r);
}

void gw_bots_list(struct gw_req *r)
{
	char tenant[24];
	const char *p[2] = { tenant, tgm_botset_defaults_json() };

	gw_tenant_param(r, tenant);
	gw_query_sql(r, list_sql, 2, p, gw_on_json);
}

/* bot_path - the {id} of the path and the tenant as parameters; false after a 404 */
static bool bot_path(struct gw_req *r, char tenant[24])
{
	int64_t id;

	if (!gw_path_id(r, "id", &id)) {
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
		return false;
	}
	gw_tenant_param(r, tenant);
	return true;
}

void gw_bots_get(struct gw_req *r)
{
	char tenant[24];
	const char *p[3] = { tgm_http_param(&r->params, "id"), tenant, tgm_botset_defaults_json() };

	if (bot_path(r, tenant))
		gw_query_sql(r, get_sql, 3, p, gw_on_bot_json);
}

/* on_updated - a bot's settings changed: ring its doorbell, answer the bot */
static void on_updated(struct gw_req *r, PGresult *res, const char *err)
{
	int64_t id;

	if (!err && PQntuples(res) == 1 && gw_path_id(r, "id", &id))
		gw_ring(r->gw, id, true); /* the lane reloads its limits */
	gw_on_bot_json(r, res, err);
}

void gw_bots_update(struct gw_req *r)
{
	char tenant[24], *settings, source[16], actor[24];
	const char *name = tgm_json_get_str(r->body, "name"), *enabled = NULL;
	yajl_val v = tgm_json_get(r->body, "enabled");

	for (size_t i = 0; r->body && i < r->body->u.object.len; i++) {
		const char *k = r->body->u.object.keys[i];
		if (strcmp(k, "name") && strcmp(k, "enabled") && strcmp(k, "settings")) {
			gw_reply_problem(r, 422, "unknown_field",
					 "only name, enabled and settings"
					 " can change",
					 k);
			return;
		}
	}
	if (v && !YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) {
		gw_reply_problem(r, 422, "invalid_field", "enabled must be true or false",
				 "enabled");
		return;
	}
	if (v)
		enabled = YAJL_IS_TRUE(v) ? "true" : "false";
	if (tgm_json_get(r->body, "name") && (name == NULL || strlen(name) > 200)) {
		gw_reply_problem(r, 422, "invalid_field", "name must be a string", "name");
		return;
	}
	settings = check_settings(r, tgm_json_get(r->body, "settings"));
	if (settings == (char *)-1)
		return;
	if (bot_path(r, tenant)) {
		const char *p[8] = {
			tgm_http_param(&r->params, "id"), tenant, name, enabled, settings,
			tgm_botset_defaults_json(),       source, actor
		};

		gw_audit_actor(r, source, actor);
		gw_query_sql(r, update_sql, 8, p, on_updated);
	}
	free(settings);
}

/* on_deleted - a bot deleted with its queued messages canceled: answer how many */
static void on_deleted(struct gw_req *r, PGresult *res, const char *err)
{
	int64_t id = 0, canceled = 0;
	yajl_gen g;

	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
		return;
	}
	gw_path_id(r, "id", &id);
	tgm_parse_int64(PQgetvalue(res, 0, 1), &canceled);
	gw_ring(r->gw, id, true);
	g = tgm_jgen_new();
	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "id", id);
	tgm_jgen_kbool(g, "deleted", true);
	tgm_jgen_kint(g, "canceled_messages", canceled);
	yajl_gen_map_close(g);
	gw_reply_json(r, 200, g);
}

void gw_bots_delete(struct gw_req *r)
{
	char tenant[24];
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };

	if (bot_path(r, tenant))
		gw_query_sql(r, delete_sql, 2, p, on_deleted);
}
