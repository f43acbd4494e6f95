/*
 * keycache.c - API keys known to this gatewayd, so that a request does not cost a
 * database round trip to authenticate.
 *
 * Correctness rests on LISTEN tgm_api_keys (a trigger notifies when a key is revoked
 * or changes scope): an entry is evicted on its key's notification, and the cache is
 * used only while the LISTEN is in effect; when the connection drops and comes back
 * the whole cache is cleared, since notifications may have been missed. Entries also
 * expire after KC_TTL_MS as a safety net. Revocations made through this gatewayd's
 * API evict before answering.
 */
#include "gatewayd/gatewayd.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define KC_SLOTS 4096 /* power of two; a full table is simply overwritten */
#define KC_TTL_MS (5 * 60 * 1000)
#define KC_TOUCH_MS 60000

struct kc_entry {
	char hash[65]; /* "" = free */
	struct gw_key key;
	int64_t fetched_ms;
	int64_t touched_ms;
};

struct gw_keycache {
	struct kc_entry slot[KC_SLOTS];
	struct tgm_pg *pg; /* the connection that LISTENs */
};

/* slot_of - the cache slot of a key hash */
static struct kc_entry *slot_of(struct gw_keycache *kc, const char *hash)
{
	uint64_t h = 0;

	for (int i = 0; i < 16; i++) /* the hash is hex of SHA-256: its digits are random */
		h = h << 4 | (uint64_t)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
	return &kc->slot[h & (KC_SLOTS - 1)];
}

/* clear - forget every cached key */
static void clear(struct gw_keycache *kc)
{
	for (int i = 0; i < KC_SLOTS; i++)
		kc->slot[i].hash[0] = '\0';
}

void gw_keycache_evict(struct gw_keycache *kc, int64_t key_id)
{
	for (int i = 0; i < KC_SLOTS; i++)
		if (kc->slot[i].hash[0] && kc->slot[i].key.id == key_id)
			kc->slot[i].hash[0] = '\0';
}

/* on_notify - a key changed (NOTIFY with its id, or none: all): evict it */
static void on_notify(const char *payload, void *arg)
{
	struct gw_keycache *kc = arg;
	int64_t id;

	if (payload == NULL || !tgm_parse_int64(payload, &id)) {
		clear(kc);
		return;
	}
	gw_keycache_evict(kc, id);
	log_debug("api key %lld changed: out of the cache", (long long)id);
}

struct gw_keycache *gw_keycache_new(struct tgm_pg *pg)
{
	struct gw_keycache *kc = tgm_xcalloc(1, sizeof(*kc));

	kc->pg = pg;
	tgm_pg_listen(pg, "tgm_api_keys", on_notify, kc);
	return kc;
}

void gw_keycache_free(struct gw_keycache *kc)
{
	free(kc);
}

bool gw_keycache_get(struct gw_keycache *kc, const char *hash, struct gw_key *out, bool *touch)
{
	struct kc_entry *e = slot_of(kc, hash);
	int64_t now = tgm_mono_ms();

	if (!tgm_pg_listening(kc->pg) || strcmp(e->hash, hash) != 0 ||
	    now - e->fetched_ms > KC_TTL_MS)
		return false;
	*out = e->key;
	*touch = now - e->touched_ms > KC_TOUCH_MS;
	if (*touch)
		e->touched_ms = now;
	return true;
}

void gw_keycache_put(struct gw_keycache *kc, const char *hash, const struct gw_key *key)
{
	struct kc_entry *e = slot_of(kc, hash);

	if (!tgm_pg_listening(kc->pg))
		return;
	snprintf(e->hash, sizeof(e->hash), "%s", hash);
	e->key = *key;
	e->fetched_ms = e->touched_ms = tgm_mono_ms();
}
