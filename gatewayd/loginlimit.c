/*
 * loginlimit.c - failed logins per client address: after LL_FAILS failures within
 * LL_WINDOW_S seconds an address is refused until the window ends. Kept in memory
 * (each gatewayd counts its own); accounts lock in the database (session.c).
 */
#include "gatewayd/gatewayd.h"
#include "common/crypto.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define LL_SLOTS 1024 /* power of two */
#define LL_FAILS 10
#define LL_WINDOW_S 300

struct ll_slot {
	uint64_t addr; /* 0: free */
	int fails;
	int64_t since_ms;
};

struct gw_loginlimit {
	struct ll_slot slot[LL_SLOTS];
};

struct gw_loginlimit *gw_loginlimit_new(void)
{
	return tgm_xcalloc(1, sizeof(struct gw_loginlimit));
}

void gw_loginlimit_free(struct gw_loginlimit *ll)
{
	free(ll);
}

/* addr_id - an address as a non-zero number */
static uint64_t addr_id(const char *address)
{
	unsigned char d[TGM_SHA256_LEN];
	uint64_t v;

	tgm_sha256(address, strlen(address), d);
	memcpy(&v, d, sizeof(v));
	return v ? v : 1;
}

/* find - the address's slot, or a free or expired one to take over */
static struct ll_slot *find(struct gw_loginlimit *ll, uint64_t a, int64_t now)
{
	struct ll_slot *old = NULL;

	for (int i = 0; i < 32; i++) {
		struct ll_slot *s = &ll->slot[(a + (uint64_t)i) & (LL_SLOTS - 1)];

		if (s->addr == a || s->addr == 0)
			return s;
		if (old == NULL && now - s->since_ms > LL_WINDOW_S * 1000)
			old = s;
	}
	return old ? old : &ll->slot[a & (LL_SLOTS - 1)];
}

int gw_loginlimit_wait(struct gw_loginlimit *ll, const char *address)
{
	int64_t now = tgm_mono_ms();
	uint64_t a = addr_id(address);
	struct ll_slot *s = find(ll, a, now);

	if (s->addr != a || now - s->since_ms > LL_WINDOW_S * 1000 || s->fails < LL_FAILS)
		return 0;
	return (int)((s->since_ms + LL_WINDOW_S * 1000 - now) / 1000) + 1;
}

void gw_loginlimit_fail(struct gw_loginlimit *ll, const char *address)
{
	int64_t now = tgm_mono_ms();
	uint64_t a = addr_id(address);
	struct ll_slot *s = find(ll, a, now);

	if (s->addr != a || now - s->since_ms > LL_WINDOW_S * 1000) {
		s->addr = a;
		s->fails = 0;
		s->since_ms = now;
	}
	s->fails++;
}
