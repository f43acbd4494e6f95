/*
 * server.c - gatewayd's sockets and route table: the HTTP listener, the doorbell
 * publisher and the status subscriber, the accept pipeline, the janitor that compacts
 * the counters every minute, and the retention pruner (retention.c). Drain closes the
 * listener first and waits for the queries of requests in flight.
 */
#include "gatewayd/gatewayd.h"
#include "gatewayd/choice.h"
#include "gatewayd/accept.h"
#include "gatewayd/campaigns.h"
#include "gatewayd/events.h"
#include "gatewayd/inbox.h"
#include "gatewayd/retention.h"
#include "gatewayd/worker.h"
#include "common/doorbell.h"
#include "common/dbconn.h"
#include "common/health.h"
#include "common/httpc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define DRAIN_TIMEOUT_S 10
#define JANITOR_S 60
#define FILE_CONNECTIONS 16 /* Bot API file downloads at once, per host */

#define R(scope, fn) (&(const struct gw_route){ scope, fn, false })
/* a route whose multipart/form-data body its handler reads (an upload) */
#define UPLOAD_R(scope, fn) (&(const struct gw_route){ scope, fn, true })
#define GET EVHTTP_REQ_GET
#define POST EVHTTP_REQ_POST

static const struct tgm_http_route routes[] = {
	{ GET | EVHTTP_REQ_HEAD, "/healthz", tgm_health_handler, NULL },
	{ GET, "/metrics", gw_dispatch, R(0, gw_metrics) },
	{ GET, "/", gw_dispatch, R(0, gw_static_index) },
	{ GET, "/ui/{file}", gw_dispatch, R(0, gw_static_file) },
	{ GET, "/v1/openapi.yaml", gw_dispatch, R(0, gw_openapi) },
	{ POST, "/v1/keys", gw_dispatch, R(GW_SCOPE_ADMIN, gw_keys_create) },
	{ GET, "/v1/keys", gw_dispatch, R(GW_SCOPE_ADMIN, gw_keys_list) },
	{ EVHTTP_REQ_DELETE, "/v1/keys/{id}", gw_dispatch, R(GW_SCOPE_ADMIN, gw_keys_revoke) },
	{ POST, "/v1/bots", gw_dispatch, R(GW_SCOPE_ADMIN, gw_bots_create) },
	{ GET, "/v1/bots", gw_dispatch, R(GW_SCOPE_READ, gw_bots_list) },
	{ GET, "/v1/bots/{id}", gw_dispatch, R(GW_SCOPE_READ, gw_bots_get) },
	{ EVHTTP_REQ_PATCH, "/v1/bots/{id}", gw_dispatch, R(GW_SCOPE_ADMIN, gw_bots_update) },
	{ EVHTTP_REQ_DELETE, "/v1/bots/{id}", gw_dispatch, R(GW_SCOPE_ADMIN, gw_bots_delete) },
	{ GET, "/v1/bots/{id}/products", gw_dispatch, R(GW_SCOPE_READ, gw_products_list) },
	{ POST, "/v1/bots/{id}/products", gw_dispatch, R(GW_SCOPE_ADMIN, gw_products_create) },
	{ EVHTTP_REQ_PATCH, "/v1/bots/{id}/products/{product_id}", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_products_update) },
	{ EVHTTP_REQ_DELETE, "/v1/bots/{id}/products/{product_id}", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_products_delete) },
	{ GET, "/v1/bots/{id}/admins", gw_dispatch, R(GW_SCOPE_ADMIN, gw_admins_list) },
	{ EVHTTP_REQ_PUT, "/v1/bots/{id}/admins/{user_id}", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_admins_set) },
	{ EVHTTP_REQ_DELETE, "/v1/bots/{id}/admins/{user_id}", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_admins_delete) },
	{ GET, "/v1/audit", gw_dispatch, R(GW_SCOPE_ADMIN, gw_audit_list) },
	{ GET, "/v1/bots/{id}/autoreplies", gw_dispatch, R(GW_SCOPE_READ, gw_autoreplies_list) },
	{ POST, "/v1/bots/{id}/autoreplies", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_autoreplies_create) },
	{ POST, "/v1/bots/{id}/autoreplies/order", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_autoreplies_order) },
	{ EVHTTP_REQ_PATCH, "/v1/bots/{id}/autoreplies/{rule_id}", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_autoreplies_update) },
	{ EVHTTP_REQ_DELETE, "/v1/bots/{id}/autoreplies/{rule_id}", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_autoreplies_delete) },
	{ GET, "/v1/bots/{id}/texts", gw_dispatch, R(GW_SCOPE_READ, gw_texts_list) },
	{ EVHTTP_REQ_PUT, "/v1/bots/{id}/texts/{lang}/{name}", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_texts_set) },
	{ EVHTTP_REQ_DELETE, "/v1/bots/{id}/texts/{lang}/{name}", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_texts_delete) },
	{ GET, "/v1/bots/{id}/payments", gw_dispatch, R(GW_SCOPE_READ, gw_payments_list) },
	{ POST, "/v1/bots/{id}/payments/{payment_id}/refund", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_refunds_create) },
	{ GET, "/v1/bots/{id}/users", gw_dispatch, R(GW_SCOPE_READ, gw_users_list) },
	{ GET, "/v1/bots/{id}/users/{user_id}", gw_dispatch, R(GW_SCOPE_READ, gw_users_get) },
	{ POST, "/v1/bots/{id}/users/{user_id}/credits", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_users_credit) },
	{ POST, "/v1/messages", gw_dispatch, R(GW_SCOPE_SEND, gw_messages_create) },
	{ GET, "/v1/messages", gw_dispatch, R(GW_SCOPE_READ, gw_messages_list) },
	{ POST, "/v1/messages/batch", gw_dispatch, R(GW_SCOPE_SEND, gw_messages_batch) },
	{ GET, "/v1/messages/{id}", gw_dispatch, R(GW_SCOPE_READ, gw_messages_get) },
	{ POST, "/v1/messages/{id}/cancel", gw_dispatch, R(GW_SCOPE_SEND, gw_messages_cancel) },
	{ GET, "/v1/stats", gw_dispatch, R(GW_SCOPE_READ, gw_stats) },
	{ GET, "/v1/stats/activity", gw_dispatch, R(GW_SCOPE_READ, gw_activity) },
	{ GET, "/v1/events", gw_dispatch, R(GW_SCOPE_READ, gw_events_open) },
	{ GET, "/v1/bot-settings", gw_dispatch, R(GW_SCOPE_READ, gw_bot_settings) },
	{ GET, "/v1/system", gw_dispatch, R(GW_SCOPE_ADMIN, gw_system) },
	{ GET, "/v1/alerts", gw_dispatch, R(GW_SCOPE_READ, gw_alerts) },
	{ GET, "/v1/exports/messages.csv", gw_dispatch, R(GW_SCOPE_READ, gw_export_messages) },
	{ POST, "/v1/messages/{id}/resend", gw_dispatch, R(GW_SCOPE_SEND, gw_messages_resend) },
	{ GET, "/v1/tenant", gw_dispatch, R(GW_SCOPE_ADMIN, gw_tenant_get) },
	{ EVHTTP_REQ_PATCH, "/v1/tenant", gw_dispatch, R(GW_SCOPE_ADMIN, gw_tenant_update) },
	{ EVHTTP_REQ_POST, "/v1/tenant/secret", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_tenant_rotate_secret) },
	{ GET, "/v1/callbacks", gw_dispatch, R(GW_SCOPE_READ, gw_callbacks_list) },
	{ EVHTTP_REQ_POST, "/v1/callbacks/{id}/redeliver", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_callbacks_redeliver) },
	/* broadcasts (campaigns.c, campaignrun.c, campaignreport.c, presets.c) */
	{ POST, "/v1/campaigns", gw_dispatch, R(GW_SCOPE_ADMIN, gw_campaigns_create) },
	{ GET, "/v1/campaigns", gw_dispatch, R(GW_SCOPE_READ, gw_campaigns_list) },
	{ GET, "/v1/campaigns/{id}", gw_dispatch, R(GW_SCOPE_READ, gw_campaigns_get) },
	{ EVHTTP_REQ_PATCH, "/v1/campaigns/{id}", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_campaigns_update) },
	{ EVHTTP_REQ_DELETE, "/v1/campaigns/{id}", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_campaigns_delete) },
	{ GET, "/v1/campaigns/{id}/preview", gw_dispatch, R(GW_SCOPE_READ, gw_campaigns_preview) },
	{ GET, "/v1/campaigns/{id}/report.csv", gw_dispatch, R(GW_SCOPE_READ, gw_campaignreport) },
	{ POST, "/v1/campaigns/{id}/start", gw_dispatch, R(GW_SCOPE_ADMIN, gw_campaignrun_start) },
	{ POST, "/v1/campaigns/{id}/pause", gw_dispatch, R(GW_SCOPE_ADMIN, gw_campaignrun_pause) },
	{ POST, "/v1/campaigns/{id}/resume", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_campaignrun_resume) },
	{ POST, "/v1/campaigns/{id}/cancel", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_campaignrun_cancel) },
	{ POST, "/v1/campaigns/{id}/retry", gw_dispatch, R(GW_SCOPE_ADMIN, gw_campaignrun_retry) },
	{ GET, "/v1/campaign-presets", gw_dispatch, R(GW_SCOPE_READ, gw_presets_list) },
	{ POST, "/v1/campaign-presets", gw_dispatch, R(GW_SCOPE_ADMIN, gw_presets_create) },
	{ EVHTTP_REQ_DELETE, "/v1/campaign-presets/{id}", gw_dispatch,
	  R(GW_SCOPE_ADMIN, gw_presets_delete) },
	/* the dashboard's accounts and sessions (session.c, account.c) */
	{ POST, "/v1/session", gw_dispatch, R(0, gw_session_login) },
	{ GET, "/v1/session", gw_dispatch, R(GW_SCOPE_READ, gw_session_get) },
	{ EVHTTP_REQ_DELETE, "/v1/session", gw_dispatch, R(GW_SCOPE_READ, gw_session_logout) },
	{ POST, "/v1/session/password", gw_dispatch, R(GW_SCOPE_READ, gw_session_password) },
	{ GET, "/v1/accounts", gw_dispatch, R(GW_SCOPE_OWNER, gw_accounts_list) },
	{ POST, "/v1/accounts", gw_dispatch, R(GW_SCOPE_OWNER, gw_accounts_create) },
	{ EVHTTP_REQ_PATCH, "/v1/accounts/{id}", gw_dispatch,
	  R(GW_SCOPE_OWNER, gw_accounts_update) },
	{ POST, "/v1/accounts/{id}/password", gw_dispatch, R(GW_SCOPE_OWNER, gw_accounts_reset) },
	/* the inbox (conversations.c, convupdate.c, timeline.c, inboxreply.c, tags.c, ...) */
	{ GET, "/v1/conversations", gw_dispatch, R(GW_SCOPE_READ, gw_conversations_list) },
	{ GET, "/v1/conversations/{id}", gw_dispatch, R(GW_SCOPE_READ, gw_conversations_get) },
	{ EVHTTP_REQ_PATCH, "/v1/conversations/{id}", gw_dispatch,
	  R(GW_SCOPE_SEND, gw_conversations_update) },
	{ POST, "/v1/conversations/{id}/read", gw_dispatch,
	  R(GW_SCOPE_SEND, gw_conversations_read) },
	{ GET, "/v1/conversations/{id}/timeline", gw_dispatch, R(GW_SCOPE_READ, gw_timeline_get) },
	{ POST, "/v1/conversations/{id}/notes", gw_dispatch, R(GW_SCOPE_SEND, gw_timeline_note) },
	{ POST, "/v1/conversations/{id}/messages", gw_dispatch, R(GW_SCOPE_SEND, gw_inbox_reply) },
	{ POST, "/v1/conversations/{id}/media", gw_dispatch,
	  UPLOAD_R(GW_SCOPE_SEND, gw_inboxupload) },
	{ POST, "/v1/conversations/{id}/tags", gw_dispatch, R(GW_SCOPE_SEND, gw_tags_attach) },
	{ EVHTTP_REQ_DELETE, "/v1/conversations/{id}/tags/{tag_id}", gw_dispatch,
	  R(GW_SCOPE_SEND, gw_tags_detach) },
	{ GET, "/v1/tags", gw_dispatch, R(GW_SCOPE_READ, gw_tags_list) },
	{ POST, "/v1/tags", gw_dispatch, R(GW_SCOPE_SEND, gw_tags_create) },
	{ EVHTTP_REQ_PATCH, "/v1/tags/{id}", gw_dispatch, R(GW_SCOPE_SEND, gw_tags_update) },
	{ EVHTTP_REQ_DELETE, "/v1/tags/{id}", gw_dispatch, R(GW_SCOPE_SEND, gw_tags_delete) },
	{ GET, "/v1/quick-replies", gw_dispatch, R(GW_SCOPE_READ, gw_quickreplies_list) },
	{ POST, "/v1/quick-replies", gw_dispatch, R(GW_SCOPE_SEND, gw_quickreplies_create) },
	{ EVHTTP_REQ_PATCH, "/v1/quick-replies/{id}", gw_dispatch,
	  R(GW_SCOPE_SEND, gw_quickreplies_update) },
	{ EVHTTP_REQ_DELETE, "/v1/quick-replies/{id}", gw_dispatch,
	  R(GW_SCOPE_SEND, gw_quickreplies_delete) },
	{ GET, "/v1/agents", gw_dispatch, R(GW_SCOPE_READ, gw_agents_list) },
	{ GET, "/v1/conversations/{id}/stats", gw_dispatch,
	  R(GW_SCOPE_READ, gw_inboxstats_conversation) },
	{ GET, "/v1/stats/agents", gw_dispatch, R(GW_SCOPE_READ, gw_inboxstats_agents) },
	{ GET, "/v1/conversations/{id}/items/{item_id}/media", gw_dispatch,
	  R(GW_SCOPE_READ, gw_inboxmedia_get) },
	{ GET, "/v1/exports/contacts.csv", gw_dispatch, R(GW_SCOPE_READ, gw_inboxexport_contacts) },
	{ GET, "/v1/exports/conversation-messages.csv", gw_dispatch,
	  R(GW_SCOPE_READ, gw_inboxexport_messages) },
	/* the brief's original paths */
	{ POST, "/api/send", gw_dispatch, R(GW_SCOPE_SEND, gw_messages_create) },
	{ POST, "/api/send/{bot_id}", gw_dispatch, R(GW_SCOPE_SEND, gw_messages_create) },
	{ GET, "/api/status/{id}", gw_dispatch, R(GW_SCOPE_READ, gw_messages_get) },
	{ GET, "/api/stats", gw_dispatch, R(GW_SCOPE_READ, gw_stats) },
	{ POST, "/api/bots", gw_dispatch, R(GW_SCOPE_ADMIN, gw_bots_create) },
	{ GET, "/api/bots", gw_dispatch, R(GW_SCOPE_READ, gw_bots_list) },
	/* the Bot API's own paths, see botapi.c */
	{ GET | POST, "/bot{token}/{method}", gw_botapi, NULL },
	{ GET, "/file/bot{token}/{dir}/{file}", gw_botapi, NULL },
	{ GET, "/file/bot{token}/{file}", gw_botapi, NULL },
	{ 0, NULL, NULL, NULL },
};

/* log_status - the debug line of a status event, with its bot and message */
static void log_status(const char *topic, const char *json, size_t len)
{
	yajl_val v = tgm_json_parse(json, len, 1 << 16, 4, NULL, 0);
	int64_t bot = 0, msg = 0;

	tgm_json_get_int(v, "bot_id", &bot);
	tgm_json_get_int(v, "id", &msg);
	log_debug("bot=%lld msg=%lld status event topic=%s", (long long)bot, (long long)msg, topic);
	yajl_tree_free(v);
}

/* chat_gone - "chat.gone": a bot can no longer reach a chat; the choice forgets the chat */
static void chat_gone(struct gatewayd *gw, const char *json, size_t len)
{
	yajl_val v = tgm_json_parse(json, len, 1 << 16, 4, NULL, 0);
	const char *chat = v ? tgm_json_get_str(v, "chat") : NULL;
	int64_t bot = 0;

	if (chat && tgm_json_get_int(v, "bot_id", &bot))
		gw_choice_forget(gw->choice, bot, chat);
	yajl_tree_free(v);
}

/* on_status - senderd's status stream ("msg.<status>", its one consumer): wakes the
 * /v1/events streams and the /bot<token>/ senders waiting for an outcome; and
 * "chat.gone" for the bot choice */
static void on_status(const char *topic, const char *json, size_t len, void *arg)
{
	struct tgm_ctx *ctx = arg;
	struct gatewayd *gw = ctx->app;

	if (strcmp(topic, "chat.gone") == 0) {
		chat_gone(gw, json, len);
		return;
	}

	if (tgm_log_get_level() >= TGM_LOG_DEBUG)
		log_status(topic, json, len);
	gw_events_wake(gw->events);
	gw_botsend_heard(gw->botsend, json, len);
}

void gw_ring(struct gatewayd *gw, int64_t bot_id, bool changed)
{
	if (changed)
		gw_choice_stale(gw->choice); /* it may choose otherwise now */
	tgm_doorbell_ring(gw->doorbell, bot_id, changed);
}

/* on_compacted - the old counters compacted */
static void on_compacted(PGresult *res, const char *err, void *arg)
{
	if (err)
		log_warn("janitor: compacting the counters, counting active users: %s", err);
}

/* on_janitor - the counters of sql/009_counters.sql compacted and the active users of
 * sql/032_active_users.sql counted (idempotency keys expire in the retention pruner,
 * retention.c) */
static void on_janitor(evutil_socket_t fd, short what, void *arg)
{
	struct gatewayd *gw = arg;

	tgm_pg_query(gw->ctx->db, "SELECT bot_counters_compact(), bot_active_refresh()", 0, NULL,
		     on_compacted, gw);
}

/* open_buses - bind the doorbell PUB and the status SUB */
static int open_buses(struct tgm_ctx *ctx, struct gatewayd *gw, char *err, size_t errlen)
{
	gw->doorbell = tgm_bus_open(ctx->base, tgm_bus_context(), ZMQ_PUB,
				    ctx->cfg->gatewayd.doorbell, true, err, errlen);
	if (gw->doorbell == NULL)
		return -1;
	gw->status = tgm_bus_open(ctx->base, tgm_bus_context(), ZMQ_SUB, ctx->cfg->gatewayd.status,
				  true, err, errlen);
	if (gw->status == NULL)
		return -1;
	tgm_bus_subscribe(gw->status, "msg.");
	tgm_bus_subscribe(gw->status, "chat.gone");
	tgm_bus_on_message(gw->status, on_status, ctx);
	return 0;
}

int gw_start(struct tgm_ctx *ctx, char *err, size_t errlen)
{
	struct gatewayd *gw = tgm_xcalloc(1, sizeof(*gw));
	const struct tgm_config *cfg = ctx->cfg;
	struct timeval tv = { JANITOR_S, 0 };

	ctx->app = gw;
	gw->ctx = ctx;
	gw->ratelimit = gw_ratelimit_new();
	gw->auth_pg = tgm_dbconn_async(ctx->base, cfg, "gatewayd-auth", TGM_DBCONN_SESSION);
	/* straight to PostgreSQL like ctx->db, which ran these before: a session keeps the
	 * statements prepared (behind a transaction pooler they would run unnamed) */
	gw->summary_pg = tgm_dbconn_async(ctx->base, cfg, "gatewayd-summary", TGM_DBCONN_SESSION);
	gw->keys = gw_keycache_new(gw->auth_pg); /* its own connection: a slow query elsewhere
						   * delays neither a lookup nor a NOTIFY */
	gw->httpc = tgm_httpc_new(ctx->base, 4);
	gw->httpc_files = tgm_httpc_new(ctx->base, FILE_CONNECTIONS);
	gw->accept = gw_accept_new(gw);
	gw->choice = gw_choice_new(gw);
	gw->worker = gw_worker_new(ctx->base);
	gw->logins = gw_loginlimit_new();
	gw->events = gw_events_new(gw);
	gw->botsend = gw_botsend_new(gw);
	gw->botupdates = gw_botupdates_new(gw);
	gw->http = tgm_http_listen(ctx->base, cfg->gatewayd.listen, (size_t)cfg->gatewayd.max_body,
				   routes, ctx, err, errlen);
	if (gw->http == NULL || open_buses(ctx, gw, err, errlen) != 0)
		return -1;
	tgm_http_route_max_body(gw->http, "/bot{token}/{method}",
				(size_t)cfg->gatewayd.botapi_max_body);
	tgm_http_route_max_body(gw->http, "/v1/conversations/{id}/media",
				(size_t)cfg->gatewayd.botapi_max_body);
	gw->ev_janitor = event_new(ctx->base, -1, EV_PERSIST, on_janitor, gw);
	event_add(gw->ev_janitor, &tv);
	/* once now, so the active users are counted from the start, not a minute later (not as
	 * EV_TIMEOUT: libevent would then put the next run two minutes after the start) */
	event_active(gw->ev_janitor, 0, 0);
	gw->retention = gw_retention_new(ctx);
	log_info("listening on http://%s", cfg->gatewayd.listen);
	return 0;
}

void gw_drain(struct tgm_ctx *ctx)
{
	struct gatewayd *gw = ctx->app;

	tgm_http_stop_accepting(gw->http);
	gw_events_close_all(gw->events); /* their clients reconnect to another instance */
	gw_botupdates_close_all(gw->botupdates);
	gw_accept_flush(gw->accept);
	gw_retention_stop(gw->retention);
	tgm_daemon_drain_when_idle(ctx, DRAIN_TIMEOUT_S);
}

int gw_busy(struct tgm_ctx *ctx)
{
	struct gatewayd *gw = ctx->app;

	return gw_accept_busy(gw->accept) + tgm_httpc_inflight(gw->httpc) +
	       tgm_httpc_inflight(gw->httpc_files) + tgm_pg_pending(gw->auth_pg) +
	       tgm_pg_pending(gw->summary_pg) + gw_worker_busy(gw->worker) +
	       gw_botsend_waiting(gw->botsend) + gw_retention_busy(gw->retention);
}

void gw_stop(struct tgm_ctx *ctx)
{
	struct gatewayd *gw = ctx->app;

	if (gw == NULL)
		return;
	if (gw->ev_janitor)
		event_free(gw->ev_janitor);
	gw_retention_free(gw->retention);
	/* first what may still answer requests, then the server that owns them */
	gw_accept_free(gw->accept); /* counts off its failed messages in choice */
	gw_choice_free(gw->choice);
	gw_worker_free(gw->worker);
	gw_events_free(gw->events);
	gw_botsend_free(gw->botsend);
	gw_botupdates_free(gw->botupdates);
	gw_loginlimit_free(gw->logins);
	tgm_httpc_free(gw->httpc);
	tgm_httpc_free(gw->httpc_files);
	gw_keycache_free(gw->keys);
	tgm_pg_free(gw->auth_pg);
	tgm_pg_free(gw->summary_pg);
	tgm_http_free(gw->http);
	tgm_bus_close(gw->doorbell);
	tgm_bus_close(gw->status);
	gw_ratelimit_free(gw->ratelimit);
	free(gw);
	ctx->app = NULL;
}
