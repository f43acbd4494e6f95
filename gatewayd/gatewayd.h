/*
 * gatewayd.h - gatewayd's state, the life of one API request, and the functions
 * the files of this folder share.
 *
 * A request goes: server.c routes it -> auth.c finds the key, checks its scope and
 * rate -> request.c reads and parses the query and body -> the route's handler (keys.c,
 * bots.c, messages.c, status.c, stats.c, products.c, users.c) -> an answer through
 * request.c, which frees the request's state. Everything a handler needs rides in
 * struct gw_req.
 */
#ifndef GATEWAYD_H
#define GATEWAYD_H

#include "common/bus.h"
#include "common/daemon.h"
#include "common/http.h"
#include "common/json.h"

#include <event2/keyvalq_struct.h>

#include <stdint.h>

struct gw_accept;
struct gw_botsend;
struct gw_botupdates;
struct gw_choice;
struct gw_events;
struct gw_keycache;
struct gw_loginlimit;
struct gw_ratelimit;
struct gw_worker;
struct tgm_httpc;

struct gatewayd {
	struct tgm_ctx *ctx;
	struct tgm_http_server *http;
	struct tgm_bus *doorbell;         /* PUB: "bot.<id>" wakes senderd lanes */
	struct tgm_bus *status;           /* SUB: "msg.<status>" from senderd */
	struct gw_accept *accept;         /* group commit of accepted messages */
	struct gw_choice *choice;         /* the bot for messages naming none */
	struct gw_ratelimit *ratelimit;   /* per-key request rate */
	struct gw_keycache *keys;         /* API keys seen, kept fresh by LISTEN */
	struct tgm_pg *auth_pg;           /* key lookups and the cache's LISTEN: never busy */
	struct tgm_pg *summary_pg;        /* gw_query_summary's prepared statements */
	struct tgm_httpc *httpc;          /* Telegram calls (getMe) */
	struct tgm_httpc *httpc_files;    /* Bot API file downloads, streamed */
	struct event *ev_janitor;         /* compacts the counters */
	struct gw_retention *retention;   /* the retention pruner */
	struct gw_worker *worker;         /* password hashing off the loop */
	struct gw_loginlimit *logins;     /* failed logins per address */
	struct gw_events *events;         /* GET /v1/events streams */
	struct gw_botsend *botsend;       /* Bot API sends waiting for their outcome */
	struct gw_botupdates *botupdates; /* Bot API getUpdates long polls */
	unsigned long accepted;           /* messages accepted since start */
	uint64_t accept_hist[16];         /* accept latency histogram, see metrics */
	uint64_t accept_sum_us;
};

/* GW_STILL_QUEUED - SQL: the message row is still waiting to be sent (a cancel may take
 * it). Not "status IN ('queued', 'retrying')": that would let the planner read the row
 * from a partial index of waiting messages, which statistics taken while nothing was
 * queued call empty, and walk the whole backlog to find one message by its id. */
#define GW_STILL_QUEUED \
	"(status IS NOT DISTINCT FROM 'queued' OR status IS NOT DISTINCT FROM 'retrying')"

/* what a caller may do: a key's scope, or a session's role (viewer, agent, admin, owner) */
enum gw_scope { GW_SCOPE_READ = 1, GW_SCOPE_SEND = 2, GW_SCOPE_ADMIN = 3, GW_SCOPE_OWNER = 4 };

/* gw_key - an API key as authentication knows it */
struct gw_key {
	int64_t id;
	int64_t tenant_id;
	enum gw_scope scope;
};

/* gw_route - what a route needs: the scope and the handler of an authenticated request */
struct gw_req;
struct gw_route {
	enum gw_scope scope; /* 0: no key needed */
	void (*handler)(struct gw_req *r);
	bool upload; /* a multipart/form-data body is the handler's to read */
};

/* gw_req - one API request in flight; freed by gw_reply* */
struct gw_req {
	struct evhttp_request *req;
	struct gatewayd *gw;
	const struct gw_route *route;
	struct tgm_http_params params;
	char *body_text;
	size_t body_len;
	yajl_val body;  /* parsed JSON body, or NULL */
	int64_t key_id; /* 0 with a session */
	int64_t tenant_id;
	enum gw_scope scope;
	int64_t session_id; /* a dashboard session's, else 0 */
	int64_t account_id;
	bool must_change;       /* the session's password must be changed first */
	char idem_key[256];     /* Idempotency-Key header, "" when none */
	struct evkeyvalq query; /* the parsed query string */
	bool has_query;
	int64_t started_us;
	void *data; /* the handler's own state, freed by data_free */
	void (*data_free)(void *data);
};

/* server.c */
int gw_start(struct tgm_ctx *ctx, char *err, size_t errlen);
void gw_drain(struct tgm_ctx *ctx);
void gw_stop(struct tgm_ctx *ctx);
int gw_busy(struct tgm_ctx *ctx);
/* gw_ring - wake the bot's lane; changed: its settings changed, the lane reloads them */
void gw_ring(struct gatewayd *gw, int64_t bot_id, bool changed);

/* request.c */
void gw_dispatch(struct evhttp_request *req, const struct tgm_http_params *p, void *arg);
void gw_proceed(struct gw_req *r);
void gw_reply_json(struct gw_req *r, int code, yajl_gen g);
/* gw_reply_raw - a JSON text made elsewhere (e.g. by PostgreSQL), as is */
void gw_reply_raw(struct gw_req *r, int code, const char *json);
/* gw_on_json - a query callback: its one JSON value as a 200 answer (or a 503) */
void gw_on_json(struct gw_req *r, PGresult *res, const char *err);
/* gw_tenant_param - the caller's tenant id as a query parameter */
void gw_tenant_param(const struct gw_req *r, char buf[24]);
void gw_reply_problem(struct gw_req *r, int status, const char *type, const char *detail,
		      const char *field);
void gw_reply_db_error(struct gw_req *r, const char *err);
void gw_req_free(struct gw_req *r);
const char *gw_header(struct gw_req *r, const char *name);
/* gw_query - a query parameter, borrowed until the request is answered; NULL if absent */
const char *gw_query(struct gw_req *r, const char *name);
bool gw_path_id(struct gw_req *r, const char *name, int64_t *id);
/* gw_query_on - run sql on connection pg for r; cb gets r back */
void gw_query_on(struct gw_req *r, struct tgm_pg *pg, const char *sql, int n,
		 const char *const *params,
		 void (*cb)(struct gw_req *r, PGresult *res, const char *err));
/* gw_query_sql - run sql on gatewayd's main connection for r; cb gets r back */
void gw_query_sql(struct gw_req *r, const char *sql, int n, const char *const *params,
		  void (*cb)(struct gw_req *r, PGresult *res, const char *err));
/*
 * gw_query_summary - run sql as the prepared statement name on a connection of its own
 * for the dashboard's summaries: parsed and planned once per connection, one generic plan
 * for all values, so only for statements whose plan does not hinge on their values (no
 * optional filter that an index would serve); name and sql fixed. cb gets r back.
 */
void gw_query_summary(struct gw_req *r, const char *name, const char *sql, int n,
		      const char *const *params,
		      void (*cb)(struct gw_req *r, PGresult *res, const char *err));

/* page.c and users.c: what the list and billing routes share */
/* gw_page - a list's paging: after (NULL: from the start) and limit + 1 as parameters */
struct gw_page {
	const char *after;
	int limit;
	char fetch[24];
};
/* gw_bot_path - the {id} of the path and the tenant as parameters; false after a 404 */
bool gw_bot_path(struct gw_req *r, char tenant[24]);
/* gw_page_params - after and limit (1-1000, default 50) checked, the limit kept in
 * r->data; false after a 422 */
bool gw_page_params(struct gw_req *r, struct gw_page *pg);
/* page.c - gw_reply_page: rows (JSON, cursor) of a bot, or one NULL row, as {name: [...],
 * next_cursor}; no row is a 404 bot_not_found. gw_reply_rows: the first rows of res as
 * that answer (the limit in r->data, as gw_page_params leaves it) */
void gw_reply_page(struct gw_req *r, PGresult *res, const char *err, const char *name);
void gw_reply_rows(struct gw_req *r, PGresult *res, int rows, const char *name);
/* gw_on_bot_json - a query callback: its one JSON value, or 404 when no row (no bot) */
void gw_on_bot_json(struct gw_req *r, PGresult *res, const char *err);

/* auth.c */
void gw_authenticate(struct gw_req *r);
/* gw_auth_granted - the caller is known (r's tenant, scope and key or session set):
 * check the route's scope and the rate, then run the handler */
void gw_auth_granted(struct gw_req *r);

/* session.c */
/* gw_session_cookie - the SHA-256 (hex) of the request's session cookie; false if none */
bool gw_session_cookie(struct gw_req *r, char hash[65]);
/* gw_session_authenticate - find the session of hash, then gw_auth_granted */
void gw_session_authenticate(struct gw_req *r, const char *hash);
/* gw_session_allowed - false while the session must change its password first */
bool gw_session_allowed(const struct gw_req *r);
/* gw_session_origin_ok - a safe method, or an Origin equal to the request's Host */
bool gw_session_origin_ok(struct gw_req *r);
void gw_session_login(struct gw_req *r);
void gw_session_get(struct gw_req *r);
void gw_session_logout(struct gw_req *r);
void gw_session_password(struct gw_req *r);

/* loginlimit.c */
struct gw_loginlimit *gw_loginlimit_new(void);
void gw_loginlimit_free(struct gw_loginlimit *ll);
/* gw_loginlimit_wait - seconds the address must wait before trying again, 0: none */
int gw_loginlimit_wait(struct gw_loginlimit *ll, const char *address);
void gw_loginlimit_fail(struct gw_loginlimit *ll, const char *address);

/* keycache.c */
struct gw_keycache *gw_keycache_new(struct tgm_pg *pg);
void gw_keycache_free(struct gw_keycache *kc);
/* gw_keycache_get - a cached key by hash; *touch: time to record last_used_at */
bool gw_keycache_get(struct gw_keycache *kc, const char *hash, struct gw_key *out, bool *touch);
void gw_keycache_put(struct gw_keycache *kc, const char *hash, const struct gw_key *key);
void gw_keycache_evict(struct gw_keycache *kc, int64_t key_id);

/* ratelimit.c */
struct gw_ratelimit *gw_ratelimit_new(void);
void gw_ratelimit_free(struct gw_ratelimit *rl);
/* gw_ratelimit_take - one request of key; false when over; *remaining, *reset_s set */
bool gw_ratelimit_take(struct gw_ratelimit *rl, int64_t key_id, int rate, int burst, int *remaining,
		       int *reset_s);
/* gw_ratelimit_take_at - the same at monotonic time now (ms): the pure bucket, for tests */
bool gw_ratelimit_take_at(struct gw_ratelimit *rl, int64_t key_id, int rate, int burst, int64_t now,
			  int *remaining, int *reset_s);

/* route handlers */
void gw_keys_create(struct gw_req *r);
void gw_keys_list(struct gw_req *r);
void gw_keys_revoke(struct gw_req *r);
void gw_bots_create(struct gw_req *r);
void gw_bots_list(struct gw_req *r);
void gw_bots_get(struct gw_req *r);
void gw_bots_update(struct gw_req *r);
void gw_bots_delete(struct gw_req *r);
void gw_messages_create(struct gw_req *r);
void gw_messages_batch(struct gw_req *r);
void gw_messages_get(struct gw_req *r);
void gw_messages_list(struct gw_req *r);
void gw_messages_cancel(struct gw_req *r);
void gw_stats(struct gw_req *r);
void gw_activity(struct gw_req *r);
void gw_tenant_get(struct gw_req *r);
void gw_tenant_update(struct gw_req *r);
void gw_tenant_rotate_secret(struct gw_req *r);

/* audit.c - the audit log: gw_audit_actor, the caller as an audit row's source
 * ("dashboard" or "api") and actor (the account's or the key's id); GW_AUDIT_SQL, an
 * SQL expression (each argument one too) that writes the row, to put in the select list
 * of the change's own statement so that both commit together, e.g.
 * "a AS (SELECT " GW_AUDIT_SQL("$2", "x.bot_id", "$5", "$6", "'admin.set'", "NULL",
 * "NULL") " FROM x)" referenced by the main query (a CTE not referenced is not run) */
void gw_audit_actor(const struct gw_req *r, char source[16], char actor[24]);
#define GW_AUDIT_SQL(tenant, bot, source, actor, action, target, detail) \
	"audit_write((" tenant ")::bigint, (" bot ")::bigint, (" source ")::text, (" actor \
	")::text, " action ", " target ", " detail ")"
void gw_audit_list(struct gw_req *r);
/* admins.c */
void gw_admins_list(struct gw_req *r);
void gw_admins_set(struct gw_req *r);
void gw_admins_delete(struct gw_req *r);
/* callbacks.c */
void gw_callbacks_list(struct gw_req *r);
void gw_callbacks_redeliver(struct gw_req *r);
/* autoreplies.c */
void gw_autoreplies_list(struct gw_req *r);
void gw_autoreplies_create(struct gw_req *r);
void gw_autoreplies_update(struct gw_req *r);
void gw_autoreplies_delete(struct gw_req *r);
/* refunds.c - a Stars payment refunded by the bot's owner */
void gw_refunds_create(struct gw_req *r);
/* texts.c - a bot's own texts */
void gw_texts_list(struct gw_req *r);
void gw_texts_set(struct gw_req *r);
void gw_texts_delete(struct gw_req *r);
void gw_autoreplies_order(struct gw_req *r);
void gw_products_list(struct gw_req *r);
void gw_products_create(struct gw_req *r);
void gw_products_update(struct gw_req *r);
void gw_products_delete(struct gw_req *r);
void gw_payments_list(struct gw_req *r);
void gw_users_list(struct gw_req *r);
void gw_users_get(struct gw_req *r);
void gw_users_credit(struct gw_req *r);
void gw_accounts_list(struct gw_req *r);
void gw_accounts_create(struct gw_req *r);
void gw_accounts_update(struct gw_req *r);
void gw_accounts_reset(struct gw_req *r);
void gw_events_open(struct gw_req *r);
void gw_static_index(struct gw_req *r);
void gw_static_file(struct gw_req *r);
void gw_bot_settings(struct gw_req *r);
void gw_system(struct gw_req *r);
void gw_alerts(struct gw_req *r);
void gw_export_messages(struct gw_req *r);
void gw_messages_resend(struct gw_req *r);

/* botapi.c: /bot<token>/<method>, an HTTP handler of its own (its bodies are not JSON only) */
void gw_botapi(struct evhttp_request *req, const struct tgm_http_params *p, void *arg);
/* gw_botapi_error - Telegram's error answer, its HTTP status the error_code; with
 * parameters.retry_after when retry_after > 0 */
void gw_botapi_error(struct gw_req *r, int code, const char *description, int retry_after);
/* botupdates.c: getUpdates from tgm's update store, long polls woken by NOTIFY */
struct gw_botupdates *gw_botupdates_new(struct gatewayd *gw);
/* gw_botupdates_close_all - answer every waiting poll now (drain) */
void gw_botupdates_close_all(struct gw_botupdates *bu);
void gw_botupdates_free(struct gw_botupdates *bu);
void gw_botupdates_get(struct gw_botupdates *bu, struct gw_req *r, int64_t bot_id);
/* gw_botupdates_parked - long polls waiting */
int gw_botupdates_parked(const struct gw_botupdates *bu);
/* botfile.c: GET /file/bot<token>/<path> streamed from Telegram (r's bot looked up);
 * gw_botfile_stream: the file at path (getFile's file_path) of the bot of token */
void gw_botfile(struct gw_req *r);
void gw_botfile_stream(struct gw_req *r, const char *token, const char *path);
/* gw_botfile_kept_cb - a streamed file's copy: its bytes (NULL when none was kept: the
 * download failed, the client left, or it passed the limit), borrowed for the call */
typedef void (*gw_botfile_kept_cb)(struct gatewayd *gw, const char *type, const void *data,
				   size_t len, void *arg);
/* gw_botfile_stream_keep - gw_botfile_stream that also keeps a copy of a file of at
 * most max bytes, handed to kept once the download is over (kept runs exactly once) */
void gw_botfile_stream_keep(struct gw_req *r, const char *token, const char *path, size_t max,
			    gw_botfile_kept_cb kept, void *arg);
/* botwebhook.c: setWebhook, deleteWebhook, getWebhookInfo answered by tgm */
bool gw_botwebhook_method(const char *method);
void gw_botwebhook(struct gw_req *r, int64_t bot_id, const char *method);
/* botsend.c: the Bot API's sending methods, queued, their answers awaited */
struct gw_botsend *gw_botsend_new(struct gatewayd *gw);
void gw_botsend_free(struct gw_botsend *bs);
/* gw_botsend_method - method is one tgm queues (sendMessage, editMessageText, ...) */
bool gw_botsend_method(const char *method);
/* gw_botsend - queue r's call of method as a message of bot_id; answers r later */
void gw_botsend(struct gw_botsend *bs, struct gw_req *r, int64_t bot_id, const char *method);
/* gw_botsend_heard - a "msg.<status>" publication of senderd */
void gw_botsend_heard(struct gw_botsend *bs, const char *json, size_t len);
/* gw_botsend_waiting - calls waiting for their outcome */
int gw_botsend_waiting(const struct gw_botsend *bs);
void gw_openapi(struct gw_req *r);
void gw_metrics(struct gw_req *r);

#endif
