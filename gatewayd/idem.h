/*
 * idem.h - idempotency keys of the routes that queue messages (see idem.c): the
 * request's hash kept with the message, and a key's earlier use found again.
 */
#ifndef GW_IDEM_H
#define GW_IDEM_H

#include "gatewayd/gatewayd.h"

/* gw_idem_hash - SHA-256 (hex) of item's canonical JSON (keys sorted, no white space),
 * after scope and a newline when scope is not NULL (a route's path: the same body sent
 * to another conversation is another request) */
void gw_idem_hash(yajl_val item, const char *scope, char out[65]);
/* gw_idem_hash_text - the same over text of len bytes (a request made canonical by
 * its route, e.g. an upload's parts) */
void gw_idem_hash_text(const char *text, size_t len, const char *scope, char out[65]);
/* gw_idem_queued - a queueing route's 202: {"id": id, "status": "queued", key: value},
 * the same whether the message was queued now or by the request replayed */
void gw_idem_queued(struct gw_req *r, const char *id, const char *key, const char *value);
/* gw_idem_replayed - the answer is a replay: the Idempotent-Replayed header */
void gw_idem_replayed(struct gw_req *r);
/* gw_idem_conflict - a 422 idempotency_conflict: the key was used with another request */
void gw_idem_conflict(struct gw_req *r);
/*
 * gw_idem_find - look up the message that r's Idempotency-Key queued for the tenant.
 * Queued by a request of the same hash: Idempotent-Replayed, then replay(r, res) with
 * its row (id, method, params->>'text'). Of another hash: a 422. None: fresh(r), or,
 * when fresh is NULL (the key's insert just lost a race, so a row should be there), a 503.
 * hash is borrowed until a callback runs.
 */
void gw_idem_find(struct gw_req *r, const char *hash,
		  void (*replay)(struct gw_req *r, PGresult *res), void (*fresh)(struct gw_req *r));

#endif
