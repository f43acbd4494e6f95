/*
 * config_keys.c - every configuration key: section, name, type, default, bounds, help.
 *
 * This table is the single source of truth: the parser validates against it,
 * `tgmctl config --defaults` prints etc/tgm.conf from it, and a test diffs the two.
 */
#include "common/config.h"

#include <stddef.h>

#define OFF(field) offsetof(struct tgm_config, field)
#define RUN "ipc:///run/tgm/"

const struct tgm_config_key tgm_config_keys[] = {
	{ "database", "url", TGM_CFG_STRING, OFF(database.url), "postgresql:///tgm", 0, 0,
	  TGM_CFG_SECRET, "libpq connection URL of the tgm database" },
	{ "database", "session_url", TGM_CFG_STRING, OFF(database.session_url), "", 0, 0,
	  TGM_CFG_SECRET | TGM_CFG_EMPTY_OK,
	  "libpq URL straight to PostgreSQL when url goes"
	  " through PgBouncer in transaction mode: connections that LISTEN or lock take it"
	  " (empty: url keeps sessions)" },
	{ "database", "connect_timeout", TGM_CFG_INT, OFF(database.connect_timeout), "5", 1, 300, 0,
	  "seconds to wait for a database connection" },
	{ "database", "start_wait", TGM_CFG_INT, OFF(database.start_wait), "60", 0, 86400, 0,
	  "seconds a starting daemon retries a database it cannot reach (0: fail at once)" },

	{ "log", "level", TGM_CFG_LOGLEVEL, OFF(log.level), "info", 0, 0, TGM_CFG_RELOADABLE,
	  "lowest priority logged: debug, info, notice, warning or error" },

	{ "security", "secret_key", TGM_CFG_HEXKEY, OFF(security.secret_key), "", 0, 0,
	  TGM_CFG_SECRET | TGM_CFG_EMPTY_OK,
	  "64 hex characters: AES-256 key for secrets at rest (tgmctl secret-key makes one)" },

	{ "telegram", "api_url", TGM_CFG_URL, OFF(telegram.api_url), "https://api.telegram.org", 0,
	  0, 0, "base URL of the Telegram Bot API" },
	{ "telegram", "timeout", TGM_CFG_INT, OFF(telegram.timeout), "30", 1, 600, 0,
	  "seconds before a Telegram API request times out" },

	{ "stripe", "api_url", TGM_CFG_URL, OFF(stripe.api_url), "https://api.stripe.com", 0, 0,
	  TGM_CFG_RELOADABLE, "base URL of the Stripe API" },
	{ "stripe", "secret_key", TGM_CFG_STRING, OFF(stripe.secret_key), "", 0, 0,
	  TGM_CFG_SECRET | TGM_CFG_EMPTY_OK | TGM_CFG_RELOADABLE,
	  "Stripe secret API key (sk_...)" },
	{ "stripe", "webhook_secret", TGM_CFG_STRING, OFF(stripe.webhook_secret), "", 0, 0,
	  TGM_CFG_SECRET | TGM_CFG_EMPTY_OK | TGM_CFG_RELOADABLE,
	  "Stripe webhook signing secret (whsec_...; two separated by a space while rolling)" },
	{ "stripe", "webhook_tolerance", TGM_CFG_INT, OFF(stripe.webhook_tolerance), "300", 1,
	  86400, TGM_CFG_RELOADABLE, "seconds a Stripe-Signature timestamp may differ from now" },
	{ "stripe", "api_version", TGM_CFG_STRING, OFF(stripe.api_version), "", 0, 0,
	  TGM_CFG_EMPTY_OK | TGM_CFG_RELOADABLE,
	  "Stripe-Version sent with every API request (\"\": the account's)" },
	{ "stripe", "timeout", TGM_CFG_INT, OFF(stripe.timeout), "30", 1, 600, TGM_CFG_RELOADABLE,
	  "seconds before a Stripe API request times out" },

	{ "gatewayd", "listen", TGM_CFG_LISTEN, OFF(gatewayd.listen), "127.0.0.1:8080", 0, 0, 0,
	  "address:port of the HTTP API and dashboard" },
	{ "gatewayd", "max_body", TGM_CFG_INT, OFF(gatewayd.max_body), "1048576", 1024, 67108864, 0,
	  "largest request body accepted, in bytes" },
	{ "gatewayd", "doorbell", TGM_CFG_ENDPOINT, OFF(gatewayd.doorbell), RUN "gatewayd-doorbell",
	  0, 0, 0, "ZeroMQ endpoint gatewayd binds to ring senderd (PUB)" },
	{ "gatewayd", "status", TGM_CFG_ENDPOINT, OFF(gatewayd.status), RUN "gatewayd-status", 0, 0,
	  0, "ZeroMQ endpoint gatewayd binds to hear message transitions (SUB)" },
	{ "gatewayd", "key_rate", TGM_CFG_INT, OFF(gatewayd.key_rate), "100", 1, 1000000,
	  TGM_CFG_RELOADABLE, "requests per second one API key may make (sustained)" },
	{ "gatewayd", "key_burst", TGM_CFG_INT, OFF(gatewayd.key_burst), "200", 1, 1000000,
	  TGM_CFG_RELOADABLE, "requests one API key may make in a burst" },
	{ "gatewayd", "accept_connections", TGM_CFG_INT, OFF(gatewayd.accept_connections), "1", 1,
	  32, 0,
	  "database connections that commit accepted messages, in groups"
	  " (from 2 they overlap: for a slow WAL flush)" },
	{ "gatewayd", "accept_batch", TGM_CFG_INT, OFF(gatewayd.accept_batch), "500", 1, 10000, 0,
	  "most messages committed together in one transaction" },
	{ "gatewayd", "botapi_wait", TGM_CFG_INT, OFF(gatewayd.botapi_wait), "60", 1, 3600,
	  TGM_CFG_RELOADABLE,
	  "seconds a Bot API send waits for Telegram's answer before a 429"
	  " (the message is canceled if it has not gone out)" },
	{ "gatewayd", "botapi_max_body", TGM_CFG_INT, OFF(gatewayd.botapi_max_body), "52428800",
	  1024, 67108864, 0, "largest Bot API request body (uploaded files), in bytes" },
	{ "gatewayd", "botapi_max_polls", TGM_CFG_INT, OFF(gatewayd.botapi_max_polls), "10000", 0,
	  1000000, TGM_CFG_RELOADABLE,
	  "getUpdates long polls one gatewayd keeps waiting at"
	  " once; one more gets Telegram's 429 with retry_after 1" },
	{ "gatewayd", "media_cache_file_max", TGM_CFG_INT, OFF(gatewayd.media_cache_file_max),
	  "5242880", 0, 20971520, TGM_CFG_RELOADABLE,
	  "largest file of a user's message the"
	  " inbox's media route keeps in the database after its first download, in bytes"
	  " (0: none)" },
	{ "gatewayd", "media_cache_max", TGM_CFG_INT, OFF(gatewayd.media_cache_max), "268435456", 0,
	  2147483647, TGM_CFG_RELOADABLE,
	  "bytes the inbox's media cache holds at most; the"
	  " files kept longest go first" },

	{ "senderd", "doorbells", TGM_CFG_ENDPOINTS, OFF(senderd.doorbells),
	  RUN "gatewayd-doorbell " RUN "webhookd-doorbell " RUN "billingd-doorbell", 0, 0, 0,
	  "doorbell endpoints senderd connects to (SUB)" },
	{ "senderd", "statuses", TGM_CFG_ENDPOINTS, OFF(senderd.statuses),
	  RUN "gatewayd-status " RUN "billingd-status", 0, 0, 0,
	  "status endpoints senderd connects to and publishes on (PUB)" },
	{ "senderd", "sweep_interval", TGM_CFG_INT, OFF(senderd.sweep_interval), "5", 1, 3600, 0,
	  "seconds between sweeps of the queue without a doorbell" },
	{ "senderd", "drain_timeout", TGM_CFG_INT, OFF(senderd.drain_timeout), "30", 1, 600,
	  TGM_CFG_RELOADABLE, "seconds a stopping senderd waits for requests in flight" },
	{ "senderd", "lease_seconds", TGM_CFG_INT, OFF(senderd.lease_seconds), "10", 3, 300, 0,
	  "seconds a bot's lease lasts; a dead senderd's bots move after this" },
	{ "senderd", "claim_batch", TGM_CFG_INT, OFF(senderd.claim_batch), "100", 1, 10000,
	  TGM_CFG_RELOADABLE, "most messages a lane claims at once" },
	{ "senderd", "claim_connections", TGM_CFG_INT, OFF(senderd.claim_connections), "4", 1, 64,
	  0, "database connections the lanes claim on, each lane on one (more bots, more)" },
	{ "senderd", "max_inflight", TGM_CFG_INT, OFF(senderd.max_inflight), "256", 1, 1000, 0,
	  "most requests in flight to Telegram per bot (a bound: each bot keeps what its"
	  " rate needs at the round trip seen)" },
	{ "senderd", "max_connections", TGM_CFG_INT, OFF(senderd.max_connections), "1024", 16,
	  65536, 0,
	  "most requests in flight to Telegram for the process, one connection each"
	  " (a memory bound)" },
	{ "senderd", "retry_base_ms", TGM_CFG_INT, OFF(senderd.retry_base_ms), "1000", 10, 3600000,
	  TGM_CFG_RELOADABLE, "first retry delay; doubles each attempt, with jitter" },
	{ "senderd", "retry_cap_s", TGM_CFG_INT, OFF(senderd.retry_cap_s), "300", 1, 86400,
	  TGM_CFG_RELOADABLE, "longest retry delay, in seconds" },
	{ "senderd", "max_attempts", TGM_CFG_INT, OFF(senderd.max_attempts), "8", 1, 100,
	  TGM_CFG_RELOADABLE, "attempts before a message fails" },
	{ "senderd", "max_retry_after", TGM_CFG_INT, OFF(senderd.max_retry_after), "600", 1, 86400,
	  TGM_CFG_RELOADABLE, "a 429 asking to wait longer fails the message (flood_wait)" },
	{ "senderd", "ambiguous", TGM_CFG_CHOICE, OFF(senderd.ambiguous), "retry", 0, 0,
	  TGM_CFG_RELOADABLE,
	  "retry|fail: a send whose outcome is unknown is sent again (may"
	  " duplicate) or failed" },
	{ "senderd", "callback_schedule", TGM_CFG_DURATIONS, OFF(senderd.callback_schedule),
	  "5s 5m 30m 2h 5h 10h 10h", 0, 0, TGM_CFG_RELOADABLE | TGM_CFG_EMPTY_OK,
	  "pauses between the attempts of a delivery callback the app does not take (about a"
	  " day in all); one attempt more than pauses, then it is failed (\"\": one attempt)" },
	{ "senderd", "callback_private", TGM_CFG_CHOICE, OFF(senderd.callback_private), "refuse", 0,
	  0, TGM_CFG_RELOADABLE,
	  "refuse|allow: delivery callbacks to loopback, private and"
	  " link-local addresses are refused unless the tenant allows them"
	  " (tenants.callback_allow_private), or allowed for every tenant" },
	{ "senderd", "metrics_listen", TGM_CFG_LISTEN, OFF(senderd.metrics_listen), "", 0, 0,
	  TGM_CFG_EMPTY_OK,
	  "address:port of senderd's own /metrics and /healthz (empty: none;"
	  " one per instance)" },

	{ "webhookd", "listen", TGM_CFG_LISTEN, OFF(webhookd.listen), "127.0.0.1:8081", 0, 0, 0,
	  "address:port for Telegram and Stripe webhooks" },
	{ "webhookd", "public_url", TGM_CFG_URL, OFF(webhookd.public_url), "", 0, 0,
	  TGM_CFG_EMPTY_OK, "public https URL that reaches webhookd (for setWebhook)" },
	{ "webhookd", "max_body", TGM_CFG_INT, OFF(webhookd.max_body), "1048576", 1024, 67108864, 0,
	  "largest webhook body accepted, in bytes" },
	{ "webhookd", "doorbell", TGM_CFG_ENDPOINT, OFF(webhookd.doorbell), RUN "webhookd-doorbell",
	  0, 0, 0, "ZeroMQ endpoint webhookd binds to ring senderd (PUB)" },
	{ "webhookd", "billing", TGM_CFG_ENDPOINT, OFF(webhookd.billing), RUN "billingd-work", 0, 0,
	  0, "billingd's work endpoint webhookd connects to (PUSH)" },
	{ "webhookd", "statuses", TGM_CFG_ENDPOINTS, OFF(webhookd.statuses), RUN "gatewayd-status",
	  0, 0, 0,
	  "status endpoints webhookd connects to and publishes on (PUB): every gatewayd's,"
	  " whose bot choice forgets a chat that blocked a bot" },
	{ "webhookd", "poll_timeout", TGM_CFG_INT, OFF(webhookd.poll_timeout), "25", 0, 50,
	  TGM_CFG_RELOADABLE, "seconds a getUpdates long poll may wait (bots in polling mode)" },
	{ "webhookd", "metrics_listen", TGM_CFG_LISTEN, OFF(webhookd.metrics_listen), "", 0, 0,
	  TGM_CFG_EMPTY_OK, "address:port of webhookd's own /metrics and /healthz (empty: none)" },
	{ "webhookd", "process_connections", TGM_CFG_INT, OFF(webhookd.process_connections), "4", 1,
	  64, 0, "database connections the claimed updates are processed on, chats in parallel" },
	{ "webhookd", "forward_private", TGM_CFG_CHOICE, OFF(webhookd.forward_private), "refuse", 0,
	  0, TGM_CFG_RELOADABLE,
	  "refuse|allow: updates forwarded to a bot's own webhook"
	  " (Bot API setWebhook) at loopback, private and link-local addresses are refused unless"
	  " the tenant allows them (tenants.callback_allow_private), or allowed for every tenant" },

	{ "billingd", "doorbell", TGM_CFG_ENDPOINT, OFF(billingd.doorbell), RUN "billingd-doorbell",
	  0, 0, 0, "ZeroMQ endpoint billingd binds to ring senderd (PUB)" },
	{ "billingd", "status", TGM_CFG_ENDPOINT, OFF(billingd.status), RUN "billingd-status", 0, 0,
	  0, "ZeroMQ endpoint billingd binds to hear message transitions (SUB)" },
	{ "billingd", "work", TGM_CFG_ENDPOINT, OFF(billingd.work), RUN "billingd-work", 0, 0, 0,
	  "ZeroMQ endpoint billingd binds for work from webhookd (PULL)" },
	{ "billingd", "metrics_listen", TGM_CFG_LISTEN, OFF(billingd.metrics_listen), "", 0, 0,
	  TGM_CFG_EMPTY_OK, "address:port of billingd's own /metrics and /healthz (empty: none)" },

	{ "retention", "messages_days", TGM_CFG_INT, OFF(retention.messages_days), "90", 0, 36500,
	  TGM_CFG_RELOADABLE,
	  "days a message is kept after its creation, then dropped with its"
	  " partition (0: for ever)" },
	{ "retention", "events_days", TGM_CFG_INT, OFF(retention.events_days), "90", 0, 36500,
	  TGM_CFG_RELOADABLE,
	  "days a message's events (its transitions) are kept; at most"
	  " messages_days (0: as long as the messages)" },
	{ "retention", "idempotency_hours", TGM_CFG_INT, OFF(retention.idempotency_hours), "24", 1,
	  876000, TGM_CFG_RELOADABLE,
	  "hours an Idempotency-Key is remembered; then it may be"
	  " used again" },
	{ "retention", "tg_updates_days", TGM_CFG_INT, OFF(retention.tg_updates_days), "30", 0,
	  36500, TGM_CFG_RELOADABLE, "days a processed Telegram update is kept (0: for ever)" },
	{ "retention", "stripe_events_days", TGM_CFG_INT, OFF(retention.stripe_events_days), "400",
	  0, 36500, TGM_CFG_RELOADABLE, "days a processed Stripe event is kept (0: for ever)" },
	{ "retention", "callbacks_days", TGM_CFG_INT, OFF(retention.callbacks_days), "30", 0, 36500,
	  TGM_CFG_RELOADABLE,
	  "days a delivered or failed delivery callback is kept (0: for ever;"
	  " never longer than its message)" },
	{ "retention", "sessions_days", TGM_CFG_INT, OFF(retention.sessions_days), "30", 0, 36500,
	  TGM_CFG_RELOADABLE,
	  "days a dashboard session is kept after its revocation or its last"
	  " use (0: for ever)" },
	{ "retention", "inbox_days", TGM_CFG_INT, OFF(retention.inbox_days), "365", 0, 36500,
	  TGM_CFG_RELOADABLE,
	  "days the inbox keeps a conversation's messages, events and notes"
	  " (0: for ever)" },
	{ "retention", "partition_size", TGM_CFG_INT, OFF(retention.partition_size), "10000000",
	  1000, 1000000000, TGM_CFG_RELOADABLE,
	  "message ids per partition of messages and their"
	  " events; the next partition is made when half of the newest is left" },
	{ "retention", "interval", TGM_CFG_INT, OFF(retention.interval), "300", 1, 86400, 0,
	  "seconds between two runs of the pruner (gatewayd; one instance in the cluster at a"
	  " time)" },
	{ "retention", "batch", TGM_CFG_INT, OFF(retention.batch), "1000", 1, 100000,
	  TGM_CFG_RELOADABLE, "most rows one step of the pruner deletes from a table" },
};

const size_t tgm_config_nkeys = sizeof(tgm_config_keys) / sizeof(tgm_config_keys[0]);
