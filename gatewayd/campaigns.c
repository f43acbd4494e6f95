/*
 * campaigns.c - broadcasts, the campaigns themselves: POST /v1/campaigns makes a draft
 * (from its body, or a preset's fields where the body gives none), GET /v1/campaigns
 * lists the tenant's newest first (their stored state, no progress), GET
 * /v1/campaigns/{id} shows one with its progress (sql/functions/campaign_json.sql), and
 * GET /v1/campaigns/{id}/preview counts its audience now and shows the first recipients
 * with the message rendered for each, and how long each bot needs at its rate. PATCH
 * changes a draft's fields (null clears gift and start_at), DELETE removes a draft. Another
 * tenant's campaign is a 404 like one that does not exist. Starting and stopping are
 * campaignrun.c's.
 */
#include "gatewayd/campaigns.h"
#include "common/util.h"

#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#define PREVIEW_DEFAULT 10
#define PREVIEW_MAX 100

/* $1 tenant, $2 name, $3 bot_ids, $4 audience, $5 message, $6 method, $7 params, $8 gift,
 * $9 start_at, $10 preset_id: a field not given comes from the preset */
static const char create_sql[] =
	"WITH p AS (SELECT * FROM campaign_presets WHERE id = $10::bigint AND tenant_id = $1),"
	" v AS (SELECT coalesce($3::bigint[], p.bot_ids) AS bot_ids,"
	"  coalesce($4::jsonb, p.audience, '{}') AS audience,"
	"  coalesce($5::jsonb, p.message) AS message, coalesce($6, p.method) AS method,"
	"  coalesce($7::jsonb, p.params) AS params, coalesce($8::bigint, p.gift) AS gift,"
	"  coalesce($2, p.name, '') AS name FROM (SELECT 1) one LEFT JOIN p ON true),"
	" ok AS (SELECT v.*, $10::bigint IS NULL OR EXISTS (SELECT 1 FROM p) AS preset_ok,"
	"  (SELECT count(*) FROM bots b WHERE b.id = ANY(v.bot_ids) AND b.tenant_id = $1"
	"   AND b.deleted_at IS NULL) = cardinality(v.bot_ids) AS bots_ok FROM v),"
	" ins AS (INSERT INTO campaigns AS c (tenant_id, name, bot_ids, audience, message,"
	"   method, params, gift, start_at)"
	"  SELECT $1, name, bot_ids, audience, message, method, params, gift, $9::timestamptz"
	"  FROM ok WHERE preset_ok AND bots_ok RETURNING c.*)"
	" SELECT (SELECT campaign_json(ins::campaigns, false) FROM ins),"
	" (SELECT id FROM ins), preset_ok, bots_ok FROM ok";

static const char list_sql[] =
	"SELECT campaign_json(c, false), c.id FROM campaigns c WHERE c.tenant_id = $1"
	" AND ($2::bigint IS NULL OR c.id < $2) ORDER BY c.id DESC LIMIT $3";

static const char get_sql[] =
	"SELECT campaign_json(c, true) FROM campaigns c WHERE c.id = $1 AND c.tenant_id = $2";

/* the audience now: its size, per bot with the bot's rate, and the first $3 rendered */
static const char preview_sql[] =
	"SELECT json_build_object('campaign_id', c.id, 'recipients', k.total, 'bots', k.bots,"
	" 'estimated_seconds', k.secs,"
	" 'first', (SELECT coalesce(json_agg(s.j ORDER BY s.user_id), '[]') FROM ("
	"  SELECT json_build_object('bot_id', a.bot_id, 'user_id', a.user_id,"
	"   'first_name', a.first_name, 'last_name', a.last_name, 'username', a.username,"
	"   'language_code', a.language_code, 'credits', a.credits, 'method', c.method,"
	"   'params', campaign_params(campaign_gift_params(c.params, a.language_code,"
	"    b.settings), a, a.credits + coalesce(c.gift, 0), c.gift))"
	"   AS j, a.user_id FROM campaign_audience(c) a JOIN bots b ON b.id = a.bot_id"
	"   AND b.deleted_at IS NULL ORDER BY a.user_id LIMIT $3) s))"
	" FROM campaigns c, LATERAL (SELECT coalesce(sum(x.n), 0) AS total,"
	"  coalesce(json_agg(json_build_object('bot_id', x.bot_id, 'recipients', x.n,"
	"   'per_second', x.rate) ORDER BY x.bot_id), '[]') AS bots,"
	"  coalesce(max(ceil(x.n / x.rate)), 0) AS secs"
	"  FROM (SELECT a.bot_id, count(*) AS n,"
	"   bd_setting(a.bot_id, 'per_second', '30')::numeric AS rate"
	"   FROM campaign_audience(c) a JOIN bots b ON b.id = a.bot_id AND b.deleted_at IS NULL"
	"   GROUP BY a.bot_id) x) k"
	" WHERE c.id = $1 AND c.tenant_id = $2";

/* a draft whose start began (its gift's recipients made: campaign_gift.sql) is
 * "starting": it neither changes nor goes */
#define STATE_NOW \
	"CASE WHEN x.state = 'draft' AND EXISTS (SELECT 1 FROM campaign_recipients r" \
	" WHERE r.campaign_id = x.id) THEN 'starting' ELSE x.state END"

/* $1 campaign, $2 tenant, $3 bot_ids, $4 name, $5 audience, $6 message, $7 method,
 * $8 params, $9 gift, $10 clear the gift, $11 start_at, $12 clear start_at */
static const char update_sql[] =
	"WITH c AS (SELECT id, " STATE_NOW " AS state FROM campaigns x"
	"  WHERE id = $1 AND tenant_id = $2 FOR UPDATE),"
	" ok AS (SELECT c.*, $3::bigint[] IS NULL OR (SELECT count(*) FROM bots b"
	"  WHERE b.id = ANY($3::bigint[]) AND b.tenant_id = $2 AND b.deleted_at IS NULL)"
	"  = cardinality($3::bigint[]) AS bots_ok FROM c),"
	" u AS (UPDATE campaigns x SET bot_ids = coalesce($3::bigint[], x.bot_ids),"
	"  name = coalesce($4, x.name), audience = coalesce($5::jsonb, x.audience),"
	"  message = coalesce($6::jsonb, x.message), method = coalesce($7, x.method),"
	"  params = coalesce($8::jsonb, x.params),"
	"  gift = CASE WHEN $10::boolean THEN NULL ELSE coalesce($9::bigint, x.gift) END,"
	"  start_at = CASE WHEN $12::boolean THEN NULL"
	"   ELSE coalesce($11::timestamptz, x.start_at) END"
	"  FROM ok WHERE x.id = ok.id AND ok.state = 'draft' AND ok.bots_ok RETURNING x.*)"
	" SELECT ok.state, ok.bots_ok, (SELECT campaign_json(u::campaigns, false) FROM u) FROM ok";

static const char delete_sql[] =
	"WITH c AS (SELECT id, " STATE_NOW " AS state FROM campaigns x"
	"  WHERE id = $1 AND tenant_id = $2),"
	" d AS (DELETE FROM campaigns x USING c WHERE x.id = c.id AND c.state = 'draft'"
	"  RETURNING x.id)"
	" SELECT c.state, (SELECT count(*) FROM d) FROM c";

bool gw_campaigns_path(struct gw_req *r, char tenant[24])
{
	int64_t id;

	if (!gw_path_id(r, "id", &id)) {
		gw_reply_problem(r, 404, "campaign_not_found", "no such campaign", NULL);
		return false;
	}
	gw_tenant_param(r, tenant);
	return true;
}

void gw_campaigns_on_json(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
		gw_reply_problem(r, 404, "campaign_not_found", "no such campaign", NULL);
	else
		gw_reply_raw(r, 200, PQgetvalue(res, 0, 0));
}

/* on_created - the draft made: 201 with its Location, or why not */
static void on_created(struct gw_req *r, PGresult *res, const char *err)
{
	char loc[64];

	if (err || PQntuples(res) != 1) {
		gw_reply_db_error(r, err ? err : "no row");
	} else if (PQgetvalue(res, 0, 2)[0] != 't') {
		gw_reply_problem(r, 404, "preset_not_found", "no such preset", "preset_id");
	} else if (PQgetvalue(res, 0, 3)[0] != 't') {
		gw_reply_problem(r, 404, "bot_not_found", "a bot of bot_ids is not one of yours",
				 "bot_ids");
	} else {
		snprintf(loc, sizeof(loc), "/v1/campaigns/%s", PQgetvalue(res, 0, 1));
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Location", loc);
		gw_reply_raw(r, 201, PQgetvalue(res, 0, 0));
	}
}

void gw_campaigns_create(struct gw_req *r)
{
	struct gw_campaign_in *in = gw_campaignbody_read(r, GW_CAMPAIGN_NEW);
	char tenant[24];

	if (in == NULL)
		return;
	gw_tenant_param(r, tenant);
	{
		const char *p[10] = { tenant,       in->name,     in->bot_ids, in->audience,
				      in->message,  in->method,   in->params,  in->gift,
				      in->start_at, in->preset_id };
		gw_query_sql(r, create_sql, 10, p, on_created);
	}
}

/* on_list - a page of campaigns */
static void on_list(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else
		gw_reply_rows(r, res, PQntuples(res), "campaigns");
}

void gw_campaigns_list(struct gw_req *r)
{
	char tenant[24];
	struct gw_page pg;

	if (!gw_page_params(r, &pg))
		return;
	gw_tenant_param(r, tenant);
	{
		const char *p[3] = { tenant, pg.after, pg.fetch };
		gw_query_sql(r, list_sql, 3, p, on_list);
	}
}

void gw_campaigns_get(struct gw_req *r)
{
	char tenant[24];
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };

	if (gw_campaigns_path(r, tenant))
		gw_query_sql(r, get_sql, 2, p, gw_campaigns_on_json);
}

void gw_campaigns_preview(struct gw_req *r)
{
	char tenant[24];
	const char *lim = gw_query(r, "limit");
	int64_t n = PREVIEW_DEFAULT;
	const char *p[3] = { tgm_http_param(&r->params, "id"), tenant, lim ? lim : "10" };

	if (lim && (!tgm_parse_int64(lim, &n) || n < 1 || n > PREVIEW_MAX)) {
		gw_reply_problem(r, 422, "invalid_parameter",
				 "limit must be an integer from 1 to"
				 " 100",
				 "limit");
		return;
	}
	if (gw_campaigns_path(r, tenant))
		gw_query_sql(r, preview_sql, 3, p, gw_campaigns_on_json);
}

/* on_updated - the draft changed, or 404 (no campaign, a bot not the tenant's), or 409 */
static void on_updated(struct gw_req *r, PGresult *res, const char *err)
{
	char detail[96];

	if (err) {
		gw_reply_db_error(r, err);
	} else if (PQntuples(res) == 0) {
		gw_reply_problem(r, 404, "campaign_not_found", "no such campaign", NULL);
	} else if (PQgetvalue(res, 0, 1)[0] != 't') {
		gw_reply_problem(r, 404, "bot_not_found", "a bot of bot_ids is not one of yours",
				 "bot_ids");
	} else if (PQgetisnull(res, 0, 2)) {
		snprintf(detail, sizeof(detail), "only a draft campaign can change; this one is %s",
			 PQgetvalue(res, 0, 0));
		gw_reply_problem(r, 409, "campaign_state", detail, NULL);
	} else {
		gw_reply_raw(r, 200, PQgetvalue(res, 0, 2));
	}
}

void gw_campaigns_update(struct gw_req *r)
{
	struct gw_campaign_in *in;
	char tenant[24];

	if (!gw_campaigns_path(r, tenant))
		return;
	in = gw_campaignbody_read(r, GW_CAMPAIGN_PATCH);
	if (in == NULL)
		return;
	{
		const char *p[12] = { tgm_http_param(&r->params, "id"),
				      tenant,
				      in->bot_ids,
				      in->name,
				      in->audience,
				      in->message,
				      in->method,
				      in->params,
				      in->gift,
				      in->null_gift ? "true" : "false",
				      in->start_at,
				      in->null_start ? "true" : "false" };
		gw_query_sql(r, update_sql, 12, p, on_updated);
	}
}

/* on_deleted - 204, or 404, or 409 for a campaign that is not a draft */
static void on_deleted(struct gw_req *r, PGresult *res, const char *err)
{
	char detail[96];

	if (err) {
		gw_reply_db_error(r, err);
	} else if (PQntuples(res) == 0) {
		gw_reply_problem(r, 404, "campaign_not_found", "no such campaign", NULL);
	} else if (strcmp(PQgetvalue(res, 0, 1), "1") != 0) {
		snprintf(detail, sizeof(detail),
			 "only a draft campaign can be deleted (cancel"
			 " it); this one is %s",
			 PQgetvalue(res, 0, 0));
		gw_reply_problem(r, 409, "campaign_state", detail, NULL);
	} else {
		tgm_http_reply(r->req, 204, NULL, NULL, 0);
		gw_req_free(r);
	}
}

void gw_campaigns_delete(struct gw_req *r)
{
	char tenant[24];
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };

	if (gw_campaigns_path(r, tenant))
		gw_query_sql(r, delete_sql, 2, p, on_deleted);
}
