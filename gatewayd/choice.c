/*
 * choice.c - the bot for a message that names none, chosen in gatewayd's memory, so
 * that choosing costs about what naming does (docs/api.md, "Bot choice").
 *
 * The rule is the database's (accept.c, CHOOSE_CTES): among the tenant's bots that may
 * reach the chat, the enabled one first, then the queue that drains soonest at the bot's
 * rate, then the most of its rate free over the last 10 s, then the lowest id; the
 * tenant's only bot whatever the chat. Its inputs are kept here:
 *  - every live bot (tenant, enabled, per_second) of the tenants that asked for a choice
 *    within IDLE_MS, with its queue depth and its sends of the last 10 s, read from the
 *    counters every REFRESH_MS, plus the messages this gatewayd counted for it since
 *    (picked here, or accepted naming it or chosen by the database);
 *  - the bots that may reach a chat, as the database's choice found them (accept.c
 *    learns them from its answer), for CHAT_TTL_MS, plus the bots this gatewayd accepted
 *    messages to the chat for since.
 * When memory cannot tell (a chat not seen in the last CHAT_TTL_MS, no refresh read in
 * the last STALE_MS, a change made here that no refresh has read yet) the message goes
 * to the database's choice, which is exact. A refresh waits while a group of messages is
 * between its INSERT and its COMMIT (up to BUSY_MS): the counters read could hold its
 * rows or not, and they are counted here already.
 */
#include "gatewayd/choice.h"
#include "gatewayd/accept.h"
#include "gatewayd/gatewayd.h"
#include "common/buf.h"
#include "common/dbconn.h"
#include "common/log.h"
#include "common/util.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 250
#define REFRESH_MS 1000
#define BUSY_MS 2000
#define STALE_MS 3000
#define IDLE_MS 60000 /* a tenant that asked for no choice this long: its bots not read */
#define CHAT_TTL_MS 10000
#define CHAT_SLOTS 16384 /* power of two: sets of CHAT_WAYS */
#define CHAT_WAYS 4      /* a chat goes in one of its set's; a full set loses its oldest */
#define CHAT_MAX 48      /* longer chat names are not remembered */
#define CAND_MAX 16      /* chats more bots may reach are not remembered */

struct cbot {
	int64_t id, tenant;
	bool enabled;
	double limit, depth, recent; /* depth and recent as the last refresh read them */
	int own, own_at_send;        /* counted here; of which before the refresh was sent */
};

struct ctenant {
	int64_t id, only; /* only: its bot, when it has one */
	int nbots;
};

struct cchat {
	int64_t tenant; /* 0: free */
	char chat[CHAT_MAX];
	int n;
	int64_t bots[CAND_MAX];
	int64_t expires_ms;
};

struct casked {
	int64_t tenant, ms; /* when it last asked for a choice */
};

struct gw_choice {
	struct gatewayd *gw;
	struct tgm_pg *pg;
	struct event *tick;
	struct cbot *bots; /* by id */
	int nbots;
	struct ctenant *tenants; /* by id */
	int ntenants;
	struct cchat *chats;
	struct casked *asked; /* by tenant: the tenants whose bots are read */
	int nasked, asked_cap;
	int64_t sent_ms, done_ms;
	unsigned long sent, done, stale_at; /* refreshes sent, the last read; sent at a change */
	bool inflight, closing;
	unsigned long memory, database, refreshes; /* metrics */
};

/* clang-format off */
static const char refresh_sql[] =
	"SELECT b.id, b.tenant_id, b.enabled, " GW_CHOICE_LIMIT_SQL("b") ","
	" (SELECT coalesce(sum(q.n), 0)::float8 FROM bot_status_counts q"
	"  WHERE q.bot_id = b.id AND " GW_CHOICE_DEPTH_WHERE "),"
	" (SELECT coalesce(sum(s.n), 0)::float8 / 10 FROM bot_done_seconds s"
	"  WHERE s.bot_id = b.id AND " GW_CHOICE_RECENT_WHERE ")"
	" FROM bots b WHERE b.tenant_id = ANY ($1::bigint[]) AND b.deleted_at IS NULL"
	" ORDER BY b.id";
/* clang-format on */

/* by_id - bsearch: an id against a bot or a tenant (each starts with its id) */
static int by_id(const void *key, const void *elem)
{
	int64_t a = *(const int64_t *)key, b = *(const int64_t *)elem;

	return a < b ? -1 : a > b;
}

/* bot_of - the live bot id, or NULL */
static struct cbot *bot_of(struct gw_choice *c, int64_t id)
{
	return c->nbots ? bsearch(&id, c->bots, (size_t)c->nbots, sizeof(*c->bots), by_id) : NULL;
}

/* tenant_of - the tenant with live bots, or NULL */
static const struct ctenant *tenant_of(const struct gw_choice *c, int64_t id)
{
	return c->ntenants
		       ? bsearch(&id, c->tenants, (size_t)c->ntenants, sizeof(*c->tenants), by_id)
		       : NULL;
}

/* chat_set - the first slot of the set of (tenant, chat) (FNV-1a) */
static struct cchat *chat_set(struct gw_choice *c, int64_t tenant, const char *chat)
{
	uint64_t h = 14695981039346656037ULL ^ (uint64_t)tenant;

	for (const char *p = chat; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return &c->chats[(h & (CHAT_SLOTS / CHAT_WAYS - 1)) * CHAT_WAYS];
}

/* chat_find - the slot of (tenant, chat) in its set, fresh or not, or NULL */
static struct cchat *chat_find(struct gw_choice *c, int64_t tenant, const char *chat)
{
	struct cchat *set = chat_set(c, tenant, chat);

	for (int i = 0; i < CHAT_WAYS; i++)
		if (set[i].tenant == tenant && strcmp(set[i].chat, chat) == 0)
			return &set[i];
	return NULL;
}

/* chat_slot - the slot to remember (tenant, chat) in: its own, else the set's oldest */
static struct cchat *chat_slot(struct gw_choice *c, int64_t tenant, const char *chat)
{
	struct cchat *set = chat_set(c, tenant, chat), *e = chat_find(c, tenant, chat);

	if (e)
		return e;
	e = &set[0];
	for (int i = 1; i < CHAT_WAYS; i++)
		if (set[i].expires_ms < e->expires_ms)
			e = &set[i];
	return e;
}

/* chat_of - the bots remembered for (tenant, chat), or NULL */
static struct cchat *chat_of(struct gw_choice *c, int64_t tenant, const char *chat)
{
	struct cchat *e = chat_find(c, tenant, chat);

	return e && e->expires_ms >= tgm_mono_ms() ? e : NULL;
}

/* better - bot a goes before b (b may be NULL): the database's order */
static bool better(const struct cbot *a, const struct cbot *b)
{
	double da, db, fa, fb;

	if (b == NULL)
		return true;
	if (a->enabled != b->enabled)
		return a->enabled;
	da = (a->depth + a->own) / a->limit, db = (b->depth + b->own) / b->limit;
	if (da != db)
		return da < db;
	fa = a->limit - a->recent, fb = b->limit - b->recent;
	if (fa != fb)
		return fa > fb;
	return a->id < b->id;
}

/* usable - memory is recent and has read every change made here */
static bool usable(const struct gw_choice *c)
{
	return c->done > c->stale_at && tgm_mono_ms() - c->done_ms <= STALE_MS;
}

/* pick - the best of the chat's bots that are the tenant's and live, or NULL */
static struct cbot *pick(struct gw_choice *c, int64_t tenant, const char *chat)
{
	const struct ctenant *t = tenant_of(c, tenant);
	const struct cchat *e;
	struct cbot *best = NULL;

	if (t == NULL)
		return NULL;
	if (t->nbots == 1)
		return bot_of(c, t->only);
	e = chat_of(c, tenant, chat);
	for (int i = 0; e && i < e->n; i++) {
		struct cbot *b = bot_of(c, e->bots[i]);

		if (b && b->tenant == tenant && better(b, best))
			best = b;
	}
	return best;
}

bool gw_choice_unknown(struct gw_choice *c, int64_t tenant, const char *chat)
{
	const struct ctenant *t;

	if (!usable(c) || strlen(chat) >= CHAT_MAX)
		return false;
	t = tenant_of(c, tenant);
	return t && t->nbots > 1 && chat_of(c, tenant, chat) == NULL;
}

/* ask - tenant asks for a choice now: its bots are read from the next refresh on */
static void ask(struct gw_choice *c, int64_t tenant)
{
	int lo = 0, hi = c->nasked;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (c->asked[mid].tenant < tenant)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == c->nasked || c->asked[lo].tenant != tenant) {
		if (c->nasked == c->asked_cap) {
			c->asked_cap = c->asked_cap ? 2 * c->asked_cap : 16;
			c->asked = tgm_xrealloc(c->asked, (size_t)c->asked_cap * sizeof(*c->asked));
		}
		memmove(&c->asked[lo + 1], &c->asked[lo],
			(size_t)(c->nasked - lo) * sizeof(*c->asked));
		c->asked[lo].tenant = tenant;
		c->nasked++;
	}
	c->asked[lo].ms = tgm_mono_ms();
}

int64_t gw_choice_pick(struct gw_choice *c, int64_t tenant, const char *chat)
{
	struct cbot *b;

	ask(c, tenant);
	b = usable(c) ? pick(c, tenant, chat) : NULL;
	if (b == NULL) {
		c->database++;
		return 0;
	}
	c->memory++;
	b->own++;
	return b->id;
}

void gw_choice_count(struct gw_choice *c, int64_t bot, int n)
{
	struct cbot *b = bot_of(c, bot);

	if (b)
		b->own += n;
}

void gw_choice_learn(struct gw_choice *c, int64_t tenant, const char *chat, const char *bots)
{
	struct cchat *e;
	const char *p = bots;
	int n = 0;

	if (strlen(chat) >= CHAT_MAX || (bots && *p++ != '{'))
		return;
	e = chat_slot(c, tenant, chat);
	e->tenant = 0;
	while (bots && *p && *p != '}') {
		char *end;
		long long id = strtoll(p, &end, 10);

		if (end == p || n == CAND_MAX)
			return;
		e->bots[n++] = id;
		p = *end == ',' ? end + 1 : end;
	}
	e->n = n; /* none: the database chooses (the tenant's only bot) or refuses */
	e->tenant = tenant;
	memcpy(e->chat, chat, strlen(chat) + 1);
	e->expires_ms = tgm_mono_ms() + CHAT_TTL_MS;
}

void gw_choice_reaches(struct gw_choice *c, int64_t tenant, const char *chat, int64_t bot)
{
	struct cchat *e = chat_of(c, tenant, chat);

	for (int i = 0; e && i < e->n; i++)
		if (e->bots[i] == bot)
			return;
	if (e && e->n < CAND_MAX)
		e->bots[e->n++] = bot;
	else if (e)
		e->tenant = 0; /* too many to remember: the database chooses */
}

void gw_choice_forget(struct gw_choice *c, int64_t bot, const char *chat)
{
	const struct cbot *b = bot_of(c, bot);
	struct cchat *e = b ? chat_find(c, b->tenant, chat) : NULL;

	if (e)
		e->tenant = 0;
}

void gw_choice_stale(struct gw_choice *c)
{
	c->stale_at = c->sent;
}

/* carry - what was counted here after the refresh was sent, onto the bots it read */
static void carry(const struct gw_choice *c, struct cbot *bots, int n)
{
	for (int i = 0, j = 0; i < n; i++) {
		while (j < c->nbots && c->bots[j].id < bots[i].id)
			j++;
		if (j < c->nbots && c->bots[j].id == bots[i].id)
			bots[i].own = c->bots[j].own - c->bots[j].own_at_send;
	}
}

/* by_tenant - qsort: bots by tenant */
static int by_tenant(const void *x, const void *y)
{
	const struct cbot *a = *(struct cbot *const *)x, *b = *(struct cbot *const *)y;

	return a->tenant < b->tenant ? -1 : a->tenant > b->tenant;
}

/* index_tenants - the tenants of the bots, each with its bot count */
static void index_tenants(struct gw_choice *c)
{
	struct cbot **by = tgm_xcalloc((size_t)c->nbots + 1, sizeof(*by));

	for (int i = 0; i < c->nbots; i++)
		by[i] = &c->bots[i];
	qsort(by, (size_t)c->nbots, sizeof(*by), by_tenant);
	free(c->tenants);
	c->tenants = tgm_xcalloc((size_t)c->nbots + 1, sizeof(*c->tenants));
	c->ntenants = 0;
	for (int i = 0; i < c->nbots; i++) {
		struct ctenant *t = &c->tenants[c->ntenants - 1];

		if (c->ntenants == 0 || t->id != by[i]->tenant) {
			t = &c->tenants[c->ntenants++];
			t->id = by[i]->tenant;
		}
		t->nbots++;
		t->only = by[i]->id;
	}
	free(by);
}

/* on_refresh - the bots and their load read: they replace what memory had */
static void on_refresh(PGresult *res, const char *err, void *arg)
{
	struct gw_choice *c = arg;
	struct cbot *bots;
	int n;

	c->inflight = false;
	if (err) {
		if (!c->closing)
			log_warn("choice: reading the bots' load: %s", err);
		return;
	}
	n = PQntuples(res);
	bots = tgm_xcalloc((size_t)n + 1, sizeof(*bots));
	for (int i = 0; i < n; i++) {
		struct cbot *b = &bots[i];

		tgm_parse_int64(PQgetvalue(res, i, 0), &b->id);
		tgm_parse_int64(PQgetvalue(res, i, 1), &b->tenant);
		b->enabled = PQgetvalue(res, i, 2)[0] == 't';
		b->limit = strtod(PQgetvalue(res, i, 3), NULL);
		b->depth = strtod(PQgetvalue(res, i, 4), NULL);
		b->recent = strtod(PQgetvalue(res, i, 5), NULL);
		if (!(b->limit > 0))
			b->limit = 30;
	}
	carry(c, bots, n);
	free(c->bots);
	c->bots = bots;
	c->nbots = n;
	index_tenants(c);
	c->done = c->sent; /* one refresh in flight at a time: this one */
	c->done_ms = tgm_mono_ms();
	c->refreshes++;
}

/* asked_tenants - the tenants that asked for a choice within IDLE_MS (the others
 * forgotten) as an SQL array in out; false: none */
static bool asked_tenants(struct gw_choice *c, int64_t now, struct tgm_buf *out)
{
	char num[24];
	int k = 0;

	for (int i = 0; i < c->nasked; i++)
		if (now - c->asked[i].ms <= IDLE_MS)
			c->asked[k++] = c->asked[i];
	c->nasked = k;
	for (int i = 0; i < k; i++) {
		snprintf(num, sizeof(num), "%lld", (long long)c->asked[i].tenant);
		tgm_pgarr_add(out, num);
	}
	tgm_pgarr_end(out);
	return k > 0;
}

/* on_tick - read the bots' load again when it is due and choices are asked for */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw_choice *c = arg;
	int64_t now = tgm_mono_ms(), since = now - c->sent_ms;
	bool busy = gw_accept_busy(c->gw->accept) > 0;

	struct tgm_buf tenants;
	const char *p[1];

	if (c->inflight || (busy ? since < BUSY_MS : (since < REFRESH_MS && c->done > c->stale_at)))
		return;
	tgm_buf_init(&tenants);
	if (asked_tenants(c, now, &tenants)) {
		for (int i = 0; i < c->nbots; i++)
			c->bots[i].own_at_send = c->bots[i].own;
		c->sent++;
		c->sent_ms = now;
		c->inflight = true;
		p[0] = tenants.p;
		tgm_pg_query_prepared(c->pg, "tgm_choice_load", refresh_sql, 1, p, on_refresh, c);
	}
	tgm_buf_free(&tenants);
}

struct gw_choice *gw_choice_new(struct gatewayd *gw)
{
	struct gw_choice *c = tgm_xcalloc(1, sizeof(*c));
	struct timeval tv = { 0, TICK_MS * 1000 };

	c->gw = gw;
	c->chats = tgm_xcalloc(CHAT_SLOTS, sizeof(*c->chats));
	c->pg = tgm_dbconn_async(gw->ctx->base, gw->ctx->cfg, "gatewayd-choice", TGM_DBCONN_POOLED);
	c->tick = event_new(gw->ctx->base, -1, EV_PERSIST, on_tick, c);
	event_add(c->tick, &tv);
	return c;
}

void gw_choice_free(struct gw_choice *c)
{
	if (c == NULL)
		return;
	event_free(c->tick);
	c->closing = true;
	tgm_pg_free(c->pg); /* a refresh in flight fails first */
	free(c->bots);
	free(c->tenants);
	free(c->asked);
	free(c->chats);
	free(c);
}

void gw_choice_metrics(const struct gw_choice *c, struct evbuffer *out)
{
	evbuffer_add_printf(out,
			    "# HELP tgm_gatewayd_bot_choices_total bots chosen for messages naming"
			    " none, by where (memory, or the database when memory cannot tell)\n"
			    "# TYPE tgm_gatewayd_bot_choices_total counter\n"
			    "tgm_gatewayd_bot_choices_total{where=\"memory\"} %lu\n"
			    "tgm_gatewayd_bot_choices_total{where=\"database\"} %lu\n"
			    "# HELP tgm_gatewayd_bot_load_reads_total times the bots' queue"
			    " depths and rates were read for the choice\n"
			    "# TYPE tgm_gatewayd_bot_load_reads_total counter\n"
			    "tgm_gatewayd_bot_load_reads_total %lu\n",
			    c->memory, c->database, c->refreshes);
}
