/*
 * menu_campaign.c - the admin menu's Broadcast and Mass gift (docs/admin-centre.md), on
 * the campaign engine (sql/functions/campaign_*.sql, docs/campaigns.md): the bot's
 * campaigns, newest first (bc: broadcasts; g: mass gifts, their history); a new one
 * from the admin's reply (bn: the text; gn: "credits text"), made a draft for this bot
 * alone; its card (bv) with the audience to choose (ba: everyone, active in the last 7
 * days, paying users), the count it reaches now (campaign_audience), Send (bs: the gift
 * granted by campaign_gift in batches, then campaign_start, audited in its statement),
 * and once running its progress (its messages by status).
 */
#include "webhookd/menu.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIFT_BATCH "500"

/* a campaign of this bot alone: $1 the bot, $2 the campaign */
/* clang-format off */
#define OURS "c.id = $2::bigint AND c.bot_ids = ARRAY[$1::bigint]" \
	" AND c.tenant_id = (SELECT tenant_id FROM bots WHERE id = $1)"
/* clang-format on */

/* $2 the page, $3 true: mass gifts */
static const char list_sql[] =
	"SELECT c.id, c.state, c.recipients, coalesce(c.gift, 0),"
	" to_char(c.created_at AT TIME ZONE 'UTC', 'MM-DD HH24:MI') FROM campaigns c"
	" WHERE c.bot_ids = ARRAY[$1::bigint] AND c.tenant_id = (SELECT tenant_id FROM bots"
	"  WHERE id = $1) AND (c.gift IS NOT NULL) = $3::boolean"
	" ORDER BY c.id DESC LIMIT " WH_MENU_PAGE_TEXT " + 1 OFFSET $2::int * " WH_MENU_PAGE_TEXT;

/* $2 the text, $3 the gift (NULL: none) */
static const char new_sql[] =
	"INSERT INTO campaigns (tenant_id, name, bot_ids, message, method, params, gift)"
	" SELECT tenant_id, 'admin menu', ARRAY[id], jsonb_build_object('text', $2::text),"
	" 'sendMessage', jsonb_build_object('text', $2::text), $3::bigint FROM bots WHERE id = $1"
	" RETURNING id";

static const char card_sql[] =
	"SELECT c.state, c.recipients, coalesce(c.gift, 0), c.params->>'text',"
	" CASE WHEN c.audience ? 'paid' THEN 2 WHEN c.audience ? 'last_seen_after' THEN 1 ELSE 0 END,"
	" CASE WHEN c.state = 'draft' THEN (SELECT count(*) FROM campaign_audience(c)) END,"
	" p.sent, p.waiting, p.failed"
	" FROM campaigns c, LATERAL (SELECT"
	"  count(*) FILTER (WHERE m.status IN ('sent', 'delivered')) AS sent,"
	"  count(*) FILTER (WHERE m.status IN ('queued', 'retrying', 'sending')) AS waiting,"
	"  count(*) FILTER (WHERE m.status IN ('failed', 'expired', 'canceled')) AS failed"
	"  FROM campaign_recipients r JOIN messages m ON m.id = r.message_id"
	"  WHERE r.campaign_id = c.id) p WHERE " OURS;

/* $3: 0 everyone, 1 active in the last 7 days, 2 paying users */
static const char audience_sql[] =
	"UPDATE campaigns c SET audience = CASE $3::int WHEN 1 THEN jsonb_build_object("
	"  'last_seen_after', now() - interval '7 days') WHEN 2 THEN '{\"paid\": true}'::jsonb"
	"  ELSE '{}'::jsonb END WHERE " OURS " AND c.state = 'draft' RETURNING c.id";

static const char gift_sql[] =
	"SELECT campaign_gift(c.id, c.tenant_id, 'mass gift from the admin menu', " GIFT_BATCH ")"
	" FROM campaigns c WHERE " OURS;

/* $3 the update, $4 the admin: started once, audited in the same statement */
/* clang-format off */
static const char start_sql[] =
	"SELECT s.state, s.recipients, s.started, CASE WHEN s.started THEN "
	WH_AUDIT_SQL("$1", "$3", "$4", "CASE WHEN c.gift IS NULL THEN 'broadcast' ELSE 'mass_gift' END",
		     "$2::text", "jsonb_build_object('recipients', s.recipients, 'gift', c.gift)")
	" END FROM campaigns c, LATERAL campaign_start(c.id, c.tenant_id,"
	" 'mass gift from the admin menu') s WHERE " OURS;
/* clang-format on */

/* list_row - a campaign of list_sql as its button */
static void list_row(struct wh_job *j, PGresult *res, int i)
{
	char label[200];

	snprintf(label, sizeof(label),
		 strcmp(j->menu.view, "g") == 0 ? "#%s · %s · %s · %s cr · %s"
						: "#%s · %s · %s%.0s · %s",
		 PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		 PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
	wh_menu_item(j, label, "bv", res, i);
}

/* on_list - list_sql answered: a button per campaign, New */
static void on_list(struct wh_job *j, PGresult *res, const char *err)
{
	bool gifts = strcmp(j->menu.view, "g") == 0;

	if (!wh_menu_list(j, res, err,
			  wh_menu_t(j, gifts ? "menu_gifts_title" : "menu_broadcasts_title"),
			  j->menu.view, list_row))
		return;
	wh_menu_key(j, wh_menu_t(j, gifts ? "menu_gift_new" : "menu_broadcast_new"),
		    gifts ? "gn" : "bn", 0, 0);
	wh_menu_end(j, "h", 0);
	wh_menu_done(j, gifts ? "admin menu: mass gifts" : "admin menu: broadcasts");
}

/* wh_menu_campaigns - bc: the broadcasts; g: the mass gifts */
void wh_menu_campaigns(struct wh_job *j)
{
	char p[2][24];
	const char *params[3] = { p[0], p[1], strcmp(j->menu.view, "g") == 0 ? "t" : "f" };

	tgm_i64(p[0], 24, j->bot_id);
	tgm_i64(p[1], 24, j->menu.page);
	wh_job_query(j, list_sql, 3, params, on_list);
}

/* on_made - new_sql answered: the draft's card */
static void on_made(struct wh_job *j, PGresult *res, const char *err)
{
	int64_t id = 0;

	if (err || PQntuples(res) != 1) {
		wh_menu_error(j, err ? err : "campaign: no bot");
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 0), &id);
	wh_audit(j, "campaign_draft", PQgetvalue(res, 0, 0), NULL);
	wh_menu_show(j, "bv", id);
}

/* wh_menu_campaign_new - bn: the text asked for; gn: "credits text" asked for; a draft */
void wh_menu_campaign_new(struct wh_job *j)
{
	char p[24], gift[24];
	const char *params[3] = { p, NULL, NULL };
	bool gifts = j->menu.view[0] == 'g';
	char *end = NULL;
	long long n = 0;

	if (j->menu.input && gifts) {
		n = strtoll(j->menu.input, &end, 10);
		params[1] = end && *end == ' ' && n > 0 && n <= 1000000 ? end + strspn(end, " ")
									: NULL;
		tgm_i64(gift, sizeof(gift), n);
		params[2] = gift;
	} else if (j->menu.input) {
		params[1] = j->menu.input;
	}
	if (params[1] == NULL || *params[1] == '\0') {
		wh_menu_prompt(j, wh_menu_t(j, gifts ? "menu_gift_ask_all" : "menu_broadcast_ask"),
			       gifts ? "g" : "bc", 0);
		return;
	}
	tgm_i64(p, sizeof(p), j->bot_id);
	wh_job_query(j, new_sql, 3, params, on_made);
}

/* card_buttons - a draft's audiences and Send; a started one's Refresh */
static void card_buttons(struct wh_job *j, bool draft, int audience)
{
	static const char *const names[] = { "menu_audience_all", "menu_audience_active",
					     "menu_audience_paid" };
	char label[120];

	if (!draft) {
		wh_menu_key(j, wh_menu_t(j, "menu_refresh"), "bv", j->menu.arg, 0);
		return;
	}
	for (int i = 0; i < 3; i++) {
		snprintf(label, sizeof(label), "%s%s", i == audience ? "● " : "",
			 wh_menu_t(j, names[i]));
		wh_menu_key(j, label, "ba", j->menu.arg, i);
	}
	wh_menu_row(j);
	wh_menu_key(j, wh_menu_t(j, "menu_send"), "bs", j->menu.arg, 0);
}

/* on_card - card_sql answered: the campaign's card */
static void on_card(struct wh_job *j, PGresult *res, const char *err)
{
	char text[5000], id[24];
	const char *vars[] = { "id",      id,     "state",  NULL,    "recipients", NULL,   "gift",
			       NULL,      "text", NULL,     "reach", NULL,         "sent", NULL,
			       "waiting", NULL,   "failed", NULL,    NULL };
	bool draft;

	if (err) {
		wh_menu_error(j, err);
		return;
	}
	if (PQntuples(res) != 1) {
		wh_menu_nothing(j);
		return;
	}
	draft = strcmp(PQgetvalue(res, 0, 0), "draft") == 0;
	tgm_i64(id, sizeof(id), j->menu.arg);
	vars[3] = PQgetvalue(res, 0, 0);
	vars[5] = PQgetvalue(res, 0, 1);
	vars[7] = PQgetvalue(res, 0, 2);
	vars[9] = PQgetvalue(res, 0, 3);
	vars[11] = PQgetvalue(res, 0, 5);
	vars[13] = PQgetvalue(res, 0, 6);
	vars[15] = PQgetvalue(res, 0, 7);
	vars[17] = PQgetvalue(res, 0, 8);
	wh_menu_begin(j, wh_menu_fill(j, text, sizeof(text),
				      draft ? "menu_campaign_draft" : "menu_campaign_card", vars));
	card_buttons(j, draft, (int)strtol(PQgetvalue(res, 0, 4), NULL, 10));
	wh_menu_end(j, strcmp(vars[7], "0") ? "g" : "bc", 0);
	wh_menu_done(j, "admin menu: campaign");
}

/* wh_menu_campaign - bv: a campaign's card */
void wh_menu_campaign(struct wh_job *j)
{
	char p[2][24];
	const char *params[2] = { p[0], p[1] };

	wh_menu_params(j, p[0], p[1]);
	wh_job_query(j, card_sql, 2, params, on_card);
}

/* on_audience - audience_sql answered: the card again */
static void on_audience(struct wh_job *j, PGresult *res, const char *err)
{
	if (err) {
		wh_menu_error(j, err);
		return;
	}
	if (PQntuples(res) != 1)
		j->menu.toast = wh_menu_t(j, "menu_campaign_started");
	wh_menu_show(j, "bv", j->menu.arg);
}

/* on_started - start_sql answered: senderd rung; the card, with its progress */
static void on_started(struct wh_job *j, PGresult *res, const char *err)
{
	if (err) {
		wh_menu_error(j, err);
		return;
	}
	if (PQntuples(res) != 1) {
		wh_menu_nothing(j);
		return;
	}
	if (PQgetvalue(res, 0, 2)[0] == 't')
		wh_ring(j->wh, j->bot_id);
	j->menu.toast = wh_menu_t(j, PQgetvalue(res, 0, 2)[0] == 't' ? "menu_campaign_sent"
								     : "menu_campaign_started");
	wh_menu_show(j, "bv", j->menu.arg);
}

/* start - the gift is granted (or none): start it */
static void start(struct wh_job *j)
{
	char p[4][24];
	const char *params[4] = { p[0], p[1], p[2], p[3] };

	wh_menu_params(j, p[0], p[1]);
	tgm_i64(p[2], 24, j->seq);
	tgm_i64(p[3], 24, wh_role_sender(j));
	wh_job_query(j, start_sql, 4, params, on_started);
}

/* on_gifted - a batch of the gift granted: the next one, until none is left */
static void on_gifted(struct wh_job *j, PGresult *res, const char *err)
{
	char p[2][24];
	const char *params[2] = { p[0], p[1] };

	if (err) {
		wh_menu_error(j, err);
		return;
	}
	if (PQntuples(res) != 1) {
		wh_menu_nothing(j);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
		start(j);
		return;
	}
	wh_menu_params(j, p[0], p[1]);
	wh_job_query(j, gift_sql, 2, params, on_gifted);
}

/* wh_menu_campaign_act - ba: the audience chosen (page: which); bs: sent */
void wh_menu_campaign_act(struct wh_job *j)
{
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };

	wh_menu_params(j, p[0], p[1]);
	if (strcmp(j->menu.view, "ba") == 0) {
		tgm_i64(p[2], 24, j->menu.page > 2 ? 0 : j->menu.page);
		wh_job_query(j, audience_sql, 3, params, on_audience);
	} else {
		wh_job_query(j, gift_sql, 2, params, on_gifted);
	}
}
