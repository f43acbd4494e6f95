/*
 * presets.c - saved campaigns to run again: GET /v1/campaign-presets lists the tenant's
 * (newest first), POST makes one (name, bot_ids, audience, message, gift: checked like a
 * campaign's, campaignbody.c), DELETE /v1/campaign-presets/{id} removes one. POST
 * /v1/campaigns with a preset_id makes a campaign of it. Another tenant's preset is a 404.
 */
#include "gatewayd/campaigns.h"
#include "common/util.h"

#include <event2/http.h>
#include <string.h>

#define PRESET_JSON \
	"json_build_object('id', p.id, 'name', p.name, 'bot_ids', p.bot_ids," \
	" 'audience', p.audience, 'message', p.message, 'gift', p.gift," \
	" 'created_at', p.created_at)"

static const char list_sql[] =
	"SELECT coalesce(json_agg(" PRESET_JSON " ORDER BY p.id DESC), '[]')"
	" FROM (SELECT * FROM campaign_presets WHERE tenant_id = $1 ORDER BY id DESC"
	" LIMIT 1000) p";

/* $1 tenant, $2 name, $3 bot_ids, $4 audience, $5 message, $6 method, $7 params, $8 gift */
static const char create_sql[] =
	"WITH ok AS (SELECT (SELECT count(*) FROM bots b WHERE b.id = ANY($3::bigint[])"
	"  AND b.tenant_id = $1 AND b.deleted_at IS NULL) = cardinality($3::bigint[]) AS bots),"
	" p AS (INSERT INTO campaign_presets (tenant_id, name, bot_ids, audience, message,"
	"  method, params, gift) SELECT $1, $2, $3, coalesce($4::jsonb, '{}'), $5, $6, $7,"
	"  $8::bigint FROM ok WHERE ok.bots RETURNING *)"
	" SELECT (SELECT " PRESET_JSON " FROM p), (SELECT id FROM p) FROM ok";

/* clang-format off */
static const char delete_sql[] =
	"DELETE FROM campaign_presets WHERE id = $1 AND tenant_id = $2";
/* clang-format on */

void gw_presets_list(struct gw_req *r)
{
	char tenant[24];
	const char *p[1] = { tenant };

	gw_tenant_param(r, tenant);
	gw_query_sql(r, list_sql, 1, p, gw_on_json);
}

/* on_created - the preset made: 201 with its Location, or 404 for a bot not the tenant's */
static void on_created(struct gw_req *r, PGresult *res, const char *err)
{
	char loc[64];

	if (err || PQntuples(res) != 1) {
		gw_reply_db_error(r, err ? err : "no row");
	} else if (PQgetisnull(res, 0, 0)) {
		gw_reply_problem(r, 404, "bot_not_found", "a bot of bot_ids is not one of yours",
				 "bot_ids");
	} else {
		snprintf(loc, sizeof(loc), "/v1/campaign-presets/%s", PQgetvalue(res, 0, 1));
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Location", loc);
		gw_reply_raw(r, 201, PQgetvalue(res, 0, 0));
	}
}

void gw_presets_create(struct gw_req *r)
{
	struct gw_campaign_in *in = gw_campaignbody_read(r, GW_CAMPAIGN_PRESET);
	char tenant[24];

	if (in == NULL)
		return;
	gw_tenant_param(r, tenant);
	{
		const char *p[8] = { tenant,      in->name,   in->bot_ids, in->audience,
				     in->message, in->method, in->params,  in->gift };
		gw_query_sql(r, create_sql, 8, p, on_created);
	}
}

/* on_deleted - 204, or 404 when the tenant has no such preset */
static void on_deleted(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (strcmp(PQcmdTuples(res), "1") != 0)
		gw_reply_problem(r, 404, "preset_not_found", "no such preset", NULL);
	else {
		tgm_http_reply(r->req, 204, NULL, NULL, 0);
		gw_req_free(r);
	}
}

void gw_presets_delete(struct gw_req *r)
{
	char tenant[24];
	int64_t id;
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };

	if (!gw_path_id(r, "id", &id)) {
		gw_reply_problem(r, 404, "preset_not_found", "no such preset", NULL);
		return;
	}
	gw_tenant_param(r, tenant);
	gw_query_sql(r, delete_sql, 2, p, on_deleted);
}
