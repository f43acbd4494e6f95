/*
 * campaignrun.c - a campaign's life: POST /v1/campaigns/{id}/start queues a draft's
 * messages (sql/functions/campaign_start.sql: its audience materialised, its gift
 * granted, one INSERT at priority bulk), /pause holds those still waiting, /resume lets
 * them go again, /cancel cancels them, and /retry makes a draft that sends the same
 * message again to the recipients whose message failed or expired. Each answers the
 * campaign with its progress; a campaign not in the state the action needs is a 409
 * saying its state. A gift is granted before the start, GIFT_BATCH users a transaction
 * (campaign_gift.sql), so a big audience does not fill PostgreSQL's lock table. Start
 * and resume ring the bots' doorbells so their lanes look now.
 */
#include "gatewayd/campaigns.h"
#include "common/util.h"

#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

/* action - one of the state changes: its statement ($1 campaign, $2 tenant, $3 detail;
 * columns state, count, changed, bot_ids) and what a 409 says; an audited one has $4
 * and $5, the caller as the audit's source and actor */
struct action {
	const char *sql;
	const char *detail; /* $3: the ledger's reason, or the messages' event detail */
	const char *needs;
	bool ring, audited;
};

#define ACTION_SQL(fn, args) \
	"SELECT s.*, c.bot_ids::text FROM campaigns c, LATERAL " fn "(c.id, $2" args ") s" \
	" WHERE c.id = $1 AND c.tenant_id = $2"

/* start and cancel, audited when they changed the campaign ($4 source, $5 actor);
 * a start with a gift also as the mass gift it granted (campaign.gift) */
/* clang-format off */
#define AUDITED_SQL(fn, count, changed, action) \
	"WITH x AS (SELECT s.state, s." count " AS n, s." changed " AS ok, c.bot_ids, c.name," \
	"  c.gift FROM campaigns c, LATERAL " fn "(c.id, $2, $3) s" \
	"  WHERE c.id = $1 AND c.tenant_id = $2)," \
	" a AS (SELECT " GW_AUDIT_SQL("$2", "NULL", "$4", "$5", "'" action "'", "$1::text", \
				     "jsonb_build_object('name', x.name, 'bot_ids', x.bot_ids," \
				     " '" count "', x.n)") " FROM x WHERE x.ok" \
	"  UNION ALL SELECT " GW_AUDIT_SQL("$2", "NULL", "$4", "$5", "'campaign.gift'", \
					  "$1::text", "jsonb_build_object('name', x.name," \
					  " 'bot_ids', x.bot_ids, 'gift', x.gift)") \
	"  FROM x WHERE x.ok AND '" action "' = 'campaign.start' AND x.gift > 0)" \
	" SELECT x.state, x.n, x.ok, x.bot_ids::text FROM x WHERE (SELECT count(*) FROM a) >= 0"
/* clang-format on */

static const struct action start = {
	AUDITED_SQL("campaign_start", "recipients", "started", "campaign.start"), "campaign gift",
	"only a draft campaign can be started", true, true
};
static const struct action pause = { ACTION_SQL("campaign_pause", ", $3"), "campaign paused",
				     "only a running campaign can be paused", false, false };
static const struct action resume = { ACTION_SQL("campaign_resume", ""), NULL,
				      "only a paused campaign can be resumed", true, false };
static const struct action cancel = {
	AUDITED_SQL("campaign_cancel", "canceled", "changed", "campaign.cancel"),
	"campaign canceled", "the campaign is canceled already", false, true
};

#define GIFT_BATCH "1000" /* advisory locks of ledger_apply held at once */

static void on_gifted(struct gw_req *r, PGresult *res, const char *err);

static const char get_sql[] =
	"SELECT campaign_json(c, true) FROM campaigns c WHERE c.id = $1 AND c.tenant_id = $2";

/* a draft with the first one's bots, message and gift, to its failed recipients */
static const char retry_sql[] =
	"WITH o AS (SELECT * FROM campaigns WHERE id = $1 AND tenant_id = $2),"
	" ins AS (INSERT INTO campaigns AS c (tenant_id, name, bot_ids, message, method, params,"
	"   gift, retry_of, root_id)"
	"  SELECT o.tenant_id, o.name, o.bot_ids, o.message, o.method, o.params, o.gift, o.id,"
	"   coalesce(o.root_id, o.id) FROM o WHERE o.state <> 'draft' RETURNING c.*)"
	" SELECT o.state, (SELECT campaign_json(ins::campaigns, false) FROM ins),"
	" (SELECT id FROM ins) FROM o";

/* ring_bots - wake the lanes of the bots of an array literal "{1,2}" */
static void ring_bots(struct gw_req *r, const char *ids)
{
	for (const char *p = ids; *p;) {
		char *end;
		long long id = strtoll(p + 1, &end, 10);

		if (end == p + 1)
			break;
		gw_ring(r->gw, id, false);
		p = end;
	}
}

/* on_done - the action's outcome: the campaign with its progress, a 404 or a 409 */
static void on_done(struct gw_req *r, PGresult *res, const char *err)
{
	const struct action *a = r->data;
	char detail[160];
	const char *p[2] = { tgm_http_param(&r->params, "id"), NULL };
	char tenant[24];

	if (err) {
		gw_reply_db_error(r, err);
	} else if (PQntuples(res) == 0) {
		gw_reply_problem(r, 404, "campaign_not_found", "no such campaign", NULL);
	} else if (PQgetvalue(res, 0, 2)[0] != 't') {
		snprintf(detail, sizeof(detail), "%s; this one is %s", a->needs,
			 PQgetvalue(res, 0, 0));
		gw_reply_problem(r, 409, "campaign_state", detail, NULL);
	} else {
		if (a->ring)
			ring_bots(r, PQgetvalue(res, 0, 3));
		r->data = NULL;
		gw_tenant_param(r, tenant);
		p[1] = tenant;
		gw_query_sql(r, get_sql, 2, p, gw_campaigns_on_json);
	}
}

/* run - the action on the campaign of the path */
static void run(struct gw_req *r, const struct action *a)
{
	char tenant[24], source[16], actor[24];
	const char *p[5] = { tgm_http_param(&r->params, "id"), tenant, a->detail, source, actor };

	if (!gw_campaigns_path(r, tenant))
		return;
	r->data = (void *)a; /* static: no data_free */
	gw_audit_actor(r, source, actor);
	gw_query_sql(r, a->sql, a->audited ? 5 : a->detail ? 3 : 2, p, on_done);
}

/* gift_step - grant the gift to the next GIFT_BATCH recipients, in a transaction of its
 * own (campaign_gift.sql; 0 at once without a gift) */
static void gift_step(struct gw_req *r)
{
	char tenant[24];
	const char *p[3] = { tgm_http_param(&r->params, "id"), tenant, start.detail };

	gw_tenant_param(r, tenant);
	gw_query_sql(r, "SELECT campaign_gift($1, $2, $3, " GIFT_BATCH ")", 3, p, on_gifted);
}

/* on_gifted - a batch granted: the next one, or the start once none is left */
static void on_gifted(struct gw_req *r, PGresult *res, const char *err)
{
	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "0") != 0)
		gift_step(r);
	else
		run(r, &start);
}

void gw_campaignrun_start(struct gw_req *r)
{
	char tenant[24];

	if (gw_campaigns_path(r, tenant))
		gift_step(r);
}

void gw_campaignrun_pause(struct gw_req *r)
{
	run(r, &pause);
}

void gw_campaignrun_resume(struct gw_req *r)
{
	run(r, &resume);
}

void gw_campaignrun_cancel(struct gw_req *r)
{
	run(r, &cancel);
}

/* on_retry - the retry's draft: 201, or 404, or 409 for a draft (nothing sent yet) */
static void on_retry(struct gw_req *r, PGresult *res, const char *err)
{
	char loc[64];

	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_reply_problem(r, 404, "campaign_not_found", "no such campaign", NULL);
	else if (PQgetisnull(res, 0, 1))
		gw_reply_problem(r, 409, "campaign_state",
				 "a draft campaign has sent nothing"
				 " to retry",
				 NULL);
	else {
		snprintf(loc, sizeof(loc), "/v1/campaigns/%s", PQgetvalue(res, 0, 2));
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Location", loc);
		gw_reply_raw(r, 201, PQgetvalue(res, 0, 1));
	}
}

void gw_campaignrun_retry(struct gw_req *r)
{
	char tenant[24];
	const char *p[2] = { tgm_http_param(&r->params, "id"), tenant };

	if (gw_campaigns_path(r, tenant))
		gw_query_sql(r, retry_sql, 2, p, on_retry);
}
