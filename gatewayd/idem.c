/*
 * idem.c - idempotency keys, as POST /v1/messages keeps them (messages.c, accept.c) and
 * the inbox's replies reuse them (inboxreply.c, inboxupload.c): the Idempotency-Key is
 * stored with the SHA-256 of the request (request_hash) in message_keys, unique per
 * tenant (sql/027: messages is partitioned and cannot hold the unique key), inserted
 * first in the statement that queues the message, which is queued only when the key
 * went in; a repeat of the same request gets the first answer with Idempotent-Replayed:
 * true, a repeat with another request a 422 idempotency_conflict. The pruner forgets
 * keys after [retention] idempotency_hours.
 */
#include "gatewayd/idem.h"
#include "common/crypto.h"
#include "common/json.h"
#include "common/util.h"

#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

/* the key in message_keys (sql/027), with its message unless pruned since */
static const char find_sql[] =
	"SELECT k.message_id, m.method, m.params->>'text', encode(k.request_hash, 'hex')"
	" FROM message_keys k LEFT JOIN messages m ON m.id = k.message_id"
	" WHERE k.tenant_id = $1 AND k.idempotency_key = $2";

/* a lookup in flight */
struct idem_find {
	const char *hash;
	void (*replay)(struct gw_req *r, PGresult *res);
	void (*fresh)(struct gw_req *r);
	void *data; /* the handler's own r->data, put back before a callback */
	void (*data_free)(void *data);
};

void gw_idem_hash_text(const char *text, size_t len, const char *scope, char out[65])
{
	unsigned char d[TGM_SHA256_LEN];
	char *all = NULL;

	if (scope) {
		all = tgm_xasprintf("%s\n%.*s", scope, (int)len, text);
		text = all;
		len = strlen(all);
	}
	tgm_sha256(text, len, d);
	tgm_hex_encode(d, sizeof(d), out);
	free(all);
}

void gw_idem_hash(yajl_val item, const char *scope, char out[65])
{
	yajl_gen g = tgm_jgen_new();
	const char *text;
	size_t len;

	tgm_jgen_canonical(g, item);
	text = tgm_jgen_text(g, &len);
	gw_idem_hash_text(text, len, scope, out);
	yajl_gen_free(g);
}

void gw_idem_queued(struct gw_req *r, const char *id, const char *key, const char *value)
{
	yajl_gen g = tgm_jgen_new();
	int64_t n = 0;

	tgm_parse_int64(id, &n);
	yajl_gen_map_open(g);
	tgm_jgen_kint(g, "id", n);
	tgm_jgen_kstr(g, "status", "queued");
	tgm_jgen_kstr(g, key, value);
	yajl_gen_map_close(g);
	gw_reply_json(r, 202, g);
}

void gw_idem_replayed(struct gw_req *r)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Idempotent-Replayed", "true");
}

void gw_idem_conflict(struct gw_req *r)
{
	gw_reply_problem(r, 422, "idempotency_conflict",
			 "this idempotency key was used with a different request",
			 "Idempotency-Key");
}

/* find_free - frees a lookup and the handler's data it keeps */
static void find_free(void *p)
{
	struct idem_find *f = p;

	if (f->data_free)
		f->data_free(f->data);
	free(f);
}

/* on_found - find_sql answered: the handler's data back in r, then replay, 422, fresh
 * or 503 */
static void on_found(struct gw_req *r, PGresult *res, const char *err)
{
	struct idem_find *f = r->data;

	r->data = f->data;
	r->data_free = f->data_free;
	f->data_free = NULL;
	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 3), f->hash) == 0)
		gw_idem_replayed(r), f->replay(r, res);
	else if (PQntuples(res) == 1)
		gw_idem_conflict(r);
	else if (f->fresh)
		f->fresh(r);
	else
		gw_reply_db_error(r, "the idempotency key's message is gone");
	free(f);
}

void gw_idem_find(struct gw_req *r, const char *hash,
		  void (*replay)(struct gw_req *r, PGresult *res), void (*fresh)(struct gw_req *r))
{
	struct idem_find *f = tgm_xcalloc(1, sizeof(*f));
	char tenant[24];

	*f = (struct idem_find){ hash, replay, fresh, r->data, r->data_free };
	r->data = f;
	r->data_free = find_free;
	gw_tenant_param(r, tenant);
	gw_query_sql(r, find_sql, 2, (const char *const[]){ tenant, r->idem_key }, on_found);
}
