/*
 * config.h - the configuration: one INI file, a section per daemon, every key in one
 * table (config_keys.c) with its type, default, bounds and help line.
 *
 * Values come, lowest first, from the table's defaults, the file, systemd credentials
 * ($CREDENTIALS_DIRECTORY/<section>.<key>, secret keys only) and the environment
 * (TGM_<SECTION>_<KEY>). A struct tgm_config is immutable once loaded: SIGHUP loads a
 * fresh one, validates it, and swaps (daemon.c).
 */
#ifndef TGM_CONFIG_H
#define TGM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TGM_DEFAULT_CONFIG "/etc/tgm/tgm.conf"

struct tgm_config {
	struct {
		char *url;
		char *session_url; /* "" when url has sessions (no transaction pooler) */
		int connect_timeout;
		int start_wait;
	} database;
	struct {
		int level;
	} log;
	struct {
		char *secret_key; /* 64 hex characters, or "" */
	} security;
	struct {
		char *api_url;
		int timeout;
	} telegram;
	struct {
		char *api_url;
		char *secret_key;
		char *webhook_secret;
		int webhook_tolerance;
		char *api_version;
		int timeout;
	} stripe;
	struct {
		char *listen;
		int max_body;
		char *doorbell;
		char *status;
		int key_rate;
		int key_burst;
		int accept_connections;
		int accept_batch;
		int botapi_wait;
		int botapi_max_body;
		int botapi_max_polls;
		int media_cache_file_max;
		int media_cache_max;
	} gatewayd;
	struct {
		char *doorbells;
		char *statuses;
		int sweep_interval;
		int drain_timeout;
		int lease_seconds;
		int claim_batch;
		int claim_connections;
		int max_inflight;
		int max_connections;
		int retry_base_ms;
		int retry_cap_s;
		int max_attempts;
		int max_retry_after;
		char *ambiguous;
		char *callback_private;
		char *callback_schedule;
		char *metrics_listen;
	} senderd;
	struct {
		char *listen;
		char *public_url;
		int max_body;
		char *doorbell;
		char *billing;
		char *statuses;
		int poll_timeout;
		char *metrics_listen;
		int process_connections;
		char *forward_private;
	} webhookd;
	struct {
		char *doorbell;
		char *status;
		char *work;
		char *metrics_listen;
	} billingd;
	struct {
		int messages_days;
		int events_days;
		int idempotency_hours;
		int tg_updates_days;
		int stripe_events_days;
		int callbacks_days;
		int sessions_days;
		int inbox_days;
		int partition_size;
		int interval;
		int batch;
	} retention;
};

enum tgm_config_type {
	TGM_CFG_STRING,
	TGM_CFG_INT,
	TGM_CFG_LOGLEVEL,
	TGM_CFG_URL,       /* http:// or https:// (or empty if allowed) */
	TGM_CFG_LISTEN,    /* host:port */
	TGM_CFG_ENDPOINT,  /* one ZeroMQ endpoint: tcp:// ipc:// inproc:// */
	TGM_CFG_ENDPOINTS, /* a space or comma separated list of endpoints */
	TGM_CFG_HEXKEY,    /* 64 hex characters (32 bytes) or empty */
	TGM_CFG_CHOICE,    /* one of the words listed in the key's help, before the colon */
	TGM_CFG_DURATIONS, /* a list of durations: 5s 5m 2h 1d (see tgm_config_durations) */
};

enum {
	TGM_CFG_SECRET = 1 << 0,     /* never printed; also read from credentials */
	TGM_CFG_RELOADABLE = 1 << 1, /* takes effect on SIGHUP */
	TGM_CFG_EMPTY_OK = 1 << 2,   /* an empty value is allowed */
};

struct tgm_config_key {
	const char *section;
	const char *key;
	enum tgm_config_type type;
	size_t offset; /* into struct tgm_config */
	const char *def;
	long min, max; /* TGM_CFG_INT bounds */
	unsigned flags;
	const char *help;
};

extern const struct tgm_config_key tgm_config_keys[];
extern const size_t tgm_config_nkeys;

/*
 * tgm_config_load - read defaults, then path, credentials and environment.
 * path NULL means the default file, which may be missing. On error returns NULL and
 * writes one line naming file, line and key to err. Caller frees with tgm_config_free.
 */
struct tgm_config *tgm_config_load(const char *path, char *err, size_t errlen);
void tgm_config_free(struct tgm_config *cfg);

/* tgm_config_print_defaults - the documented default file, as in etc/tgm.conf */
void tgm_config_print_defaults(FILE *out);

/* tgm_config_diff_restart - log a warning for each changed key that needs a restart */
void tgm_config_warn_unreloadable(const struct tgm_config *old, const struct tgm_config *cur);

#define TGM_CONFIG_DURATIONS_MAX 16

/* tgm_config_durations - "5s 5m 2.5h 1d" (space or comma separated, each at most 7 days)
 * into ms[], at most max of them; their count (0 for ""), or -1 when v is not such a
 * list */
int tgm_config_durations(const char *v, int64_t *ms, int max);

/* tgm_config_secret_key - the 32-byte master key; -1 when not configured */
int tgm_config_secret_key(const struct tgm_config *cfg, unsigned char key[32]);

#endif
