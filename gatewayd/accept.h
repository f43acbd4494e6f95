/*
 * accept.h - the accept pipeline: messages validated by messages.c are committed in
 * groups (one INSERT of many rows per transaction) on a few dedicated connections,
 * and each caller hears back only after the COMMIT that holds its rows.
 */
#ifndef GW_ACCEPT_H
#define GW_ACCEPT_H

#include "common/msgstatus.h"

#include <stdbool.h>
#include <stdint.h>

struct gatewayd;
struct gw_accept;

enum gw_outcome {
	GW_PENDING,
	GW_RECHOOSE,        /* its bot, chosen in memory, was deleted meanwhile: it goes again
			     * (accept.c's own: a caller never hears it) */
	GW_ACCEPTED,        /* committed now */
	GW_REPLAYED,        /* the idempotency key was used before with the same body */
	GW_KEY_CONFLICT,    /* the idempotency key was used before with another body */
	GW_BOT_NOT_FOUND,   /* no such bot for this tenant */
	GW_NO_BOT_FOR_CHAT, /* none named, and none of the tenant's may reach the chat */
	GW_KEY_REVOKED,     /* the API key was revoked meanwhile */
	GW_FAILED,          /* the database failed; nothing was accepted */
};

/* gw_msg - one message to accept; the strings are owned by it (gw_msg_free, validate.h) */
struct gw_msg {
	int64_t tenant_id;
	int64_t key_id; /* the API key that asked: checked again at the commit */
	int64_t bot_id;
	char *chat;        /* "123" or "@channel" */
	char *method;      /* "sendMessage", ... */
	char *params;      /* the Telegram method's JSON parameters */
	int priority;      /* 0 high, 1 normal, 2 bulk */
	char *send_at;     /* RFC 3339, or NULL for now */
	int ttl_seconds;   /* 0: none */
	char *idem_key;    /* or NULL */
	char req_hash[65]; /* SHA-256 hex of the request, "" without idem_key */
	char *callback_url;
	char *metadata; /* JSON object text, or NULL */
	/* the outcome */
	enum gw_outcome outcome;
	int64_t id;
	enum tgm_msg_status status; /* the message's status now (for replays) */
	bool chosen;                /* bot_id chosen in memory (choice.c), not named */
	bool counted;               /* counted in bot_id's queue by choice.c */
	bool db_choice;             /* gone again (GW_RECHOOSE): the database chooses */
};

/* gw_accept_cb - every message of the submission has its outcome */
typedef void (*gw_accept_cb)(struct gw_msg **msgs, int n, void *arg);

struct gw_accept *gw_accept_new(struct gatewayd *gw);
void gw_accept_free(struct gw_accept *a);
/* gw_accept_submit - commit msgs (borrowed until cb) with others; cb runs later */
void gw_accept_submit(struct gw_accept *a, struct gw_msg **msgs, int n, gw_accept_cb cb, void *arg);
/* gw_accept_flush - send what waits now (on drain) */
void gw_accept_flush(struct gw_accept *a);
/* gw_accept_busy - submissions waiting or in flight */
int gw_accept_busy(const struct gw_accept *a);

#endif
