/*
 * campaigns.h - broadcasts: what the campaign files of gatewayd share. campaignbody.c
 * reads and checks a campaign's (or a preset's) body; campaigns.c, campaignrun.c,
 * campaignreport.c and presets.c hold the routes (docs/campaigns.md).
 */
#ifndef GW_CAMPAIGNS_H
#define GW_CAMPAIGNS_H

#include "gatewayd/gatewayd.h"

/* gw_campaign_in - a body's fields as query parameters: NULL where not given */
struct gw_campaign_in {
	const char *name;     /* borrowed from the body */
	const char *start_at; /* borrowed from the body: RFC 3339 */
	char *bot_ids;        /* "{1,2}" */
	char *audience;       /* JSON text */
	char *message;        /* JSON text: as given, or the catalog's gift text */
	char *method;         /* the checked message: sendMessage, sendPhoto, sendDocument */
	char *params;         /* its Telegram parameters (chat_id set per recipient) */
	const char *gift;     /* points into num_gift */
	const char *preset_id;
	bool null_gift, null_start; /* given as null: cleared (PATCH) */
	char num_gift[24], num_preset[24];
};

/* what a body is for: a campaign made, a preset made, or a draft changed (PATCH: nothing
 * required, no preset_id, no catalog message for a gift) */
enum gw_campaign_body { GW_CAMPAIGN_NEW, GW_CAMPAIGN_PRESET, GW_CAMPAIGN_PATCH };

/* gw_campaignbody_read - r's body checked for kind (a preset's has no start_at or
 * preset_id); NULL after an answer (400, 422). Freed with r (it is r->data). */
struct gw_campaign_in *gw_campaignbody_read(struct gw_req *r, enum gw_campaign_body kind);

/* campaigns.c */
void gw_campaigns_create(struct gw_req *r);
void gw_campaigns_list(struct gw_req *r);
void gw_campaigns_get(struct gw_req *r);
void gw_campaigns_preview(struct gw_req *r);
void gw_campaigns_update(struct gw_req *r);
void gw_campaigns_delete(struct gw_req *r);
/* gw_campaigns_path - the {id} of the path and the tenant as parameters; false after a
 * 404 */
bool gw_campaigns_path(struct gw_req *r, char tenant[24]);
/* gw_campaigns_on_json - a query callback: its one JSON value, or 404 when no row */
void gw_campaigns_on_json(struct gw_req *r, PGresult *res, const char *err);

/* campaignrun.c */
void gw_campaignrun_start(struct gw_req *r);
void gw_campaignrun_pause(struct gw_req *r);
void gw_campaignrun_resume(struct gw_req *r);
void gw_campaignrun_cancel(struct gw_req *r);
void gw_campaignrun_retry(struct gw_req *r);

/* campaignreport.c */
void gw_campaignreport(struct gw_req *r);

/* presets.c */
void gw_presets_list(struct gw_req *r);
void gw_presets_create(struct gw_req *r);
void gw_presets_delete(struct gw_req *r);

#endif
