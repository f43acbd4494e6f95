/*
 * lookup.c - the bots that may reach the chats of messages that name none, read before
 * the messages queue for their INSERT, so that gatewayd's memory chooses their bot
 * (choice.c) and their group is inserted as if they named it.
 *
 * The accept pipeline (accept.c) hands a submission here when memory could choose for
 * one of its messages but does not know that chat's bots. Submissions gather while one
 * lookup is in flight, as groups do for their INSERT, and the next lookup reads the
 * chats of all of them at once on a connection of its own: the INSERTs of other groups
 * do not wait for it, and a chat named by many of them is read once. Each chat's bots
 * are learned (none too), and the submissions go back to the accept queue. A failed
 * lookup learns nothing: the database's choice in the INSERT then decides, as it does
 * whenever memory cannot.
 */
#include "gatewayd/lookup.h"
#include "gatewayd/accept.h"
#include "gatewayd/choice.h"
#include "gatewayd/gatewayd.h"
#include "common/buf.h"
#include "common/dbconn.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>

struct item {
	struct item *next;
	struct gw_msg **msgs;
	int n;
	void *arg; /* the caller's, handed back to done */
};

struct gw_lookup {
	struct gatewayd *gw;
	struct tgm_pg *pg;
	gw_lookup_done done;
	struct item *head, **tail; /* waiting for the next lookup */
	struct item *flight;       /* in the lookup in flight */
	int busy;                  /* items waiting or in flight */
	bool closing;
};

/* clang-format off */
static const char lookup_sql[] =
	"SELECT i.ord, array_agg(DISTINCT x.bot_id ORDER BY x.bot_id) FILTER (WHERE"
	"  (SELECT b.tenant_id FROM bots b WHERE b.id = x.bot_id AND b.deleted_at IS NULL)"
	"  = i.tenant_id)" /* each bot by its key: a join or an EXISTS hashed all bots */
	" FROM (SELECT min(u.ord) AS ord, u.tenant_id, u.chat" /* each chat once */
	"  FROM unnest($1::int[], $2::bigint[], $3::text[]) AS u(ord, tenant_id, chat)"
	"  GROUP BY u.tenant_id, u.chat) i"
	" LEFT JOIN LATERAL " GW_CHOICE_REACH_SQL " x ON true"
	" GROUP BY i.ord, i.tenant_id";
/* clang-format on */

static void send_lookup(struct gw_lookup *l);

/* hand_back - the items of a lookup back to the caller */
static void hand_back(struct gw_lookup *l, struct item *it)
{
	while (it) {
		struct item *next = it->next;

		l->busy--;
		l->done(it->arg);
		free(it);
		it = next;
	}
}

/* flat - the message at index ord of the items, in order, or NULL */
static struct gw_msg *flat(struct item *it, int64_t ord)
{
	for (; it; it = it->next) {
		if (ord < it->n)
			return it->msgs[ord];
		ord -= it->n;
	}
	return NULL;
}

/* on_lookup - the chats' bots read: learned; the items go back, the next lookup goes */
static void on_lookup(PGresult *res, const char *err, void *arg)
{
	struct gw_lookup *l = arg;
	struct item *it = l->flight;

	l->flight = NULL;
	if (err && !l->closing)
		log_warn("lookup: the bots of the chats: %s", err);
	for (int i = 0; !err && i < PQntuples(res); i++) {
		int64_t ord = -1;
		struct gw_msg *m;

		tgm_parse_int64(PQgetvalue(res, i, 0), &ord);
		m = flat(it, ord);
		if (m)
			gw_choice_learn(l->gw->choice, m->tenant_id, m->chat,
					PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1));
	}
	hand_back(l, it);
	if (!l->closing)
		send_lookup(l);
}

/* send_lookup - the chats of every waiting item's messages that name no bot, at once */
static void send_lookup(struct gw_lookup *l)
{
	struct tgm_buf col[3];
	const char *p[3];
	char num[24];
	int ord = 0;

	if (l->flight || l->head == NULL)
		return;
	l->flight = l->head;
	l->head = NULL;
	l->tail = &l->head;
	for (int c = 0; c < 3; c++)
		tgm_buf_init(&col[c]);
	for (struct item *it = l->flight; it; it = it->next)
		for (int i = 0; i < it->n; i++, ord++) {
			if (it->msgs[i]->bot_id != 0)
				continue;
			snprintf(num, sizeof(num), "%d", ord);
			tgm_pgarr_add(&col[0], num);
			snprintf(num, sizeof(num), "%lld", (long long)it->msgs[i]->tenant_id);
			tgm_pgarr_add(&col[1], num);
			tgm_pgarr_add(&col[2], it->msgs[i]->chat);
		}
	for (int c = 0; c < 3; c++) {
		tgm_pgarr_end(&col[c]);
		p[c] = col[c].p;
	}
	tgm_pg_query_prepared(l->pg, "tgm_lookup", lookup_sql, 3, p, on_lookup, l);
	for (int c = 0; c < 3; c++)
		tgm_buf_free(&col[c]);
}

struct gw_lookup *gw_lookup_new(struct gatewayd *gw, gw_lookup_done done)
{
	struct gw_lookup *l = tgm_xcalloc(1, sizeof(*l));

	l->gw = gw;
	l->done = done;
	l->tail = &l->head;
	l->pg = tgm_dbconn_async(gw->ctx->base, gw->ctx->cfg, "gatewayd-lookup", TGM_DBCONN_POOLED);
	return l;
}

bool gw_lookup_need(struct gatewayd *gw, struct gw_msg **msgs, int n)
{
	for (int i = 0; i < n; i++)
		if (msgs[i]->bot_id == 0 &&
		    gw_choice_unknown(gw->choice, msgs[i]->tenant_id, msgs[i]->chat))
			return true;
	return false;
}

void gw_lookup_add(struct gw_lookup *l, struct gw_msg **msgs, int n, void *arg)
{
	struct item *it = tgm_xcalloc(1, sizeof(*it));

	it->msgs = msgs;
	it->n = n;
	it->arg = arg;
	*l->tail = it;
	l->tail = &it->next;
	l->busy++;
	send_lookup(l);
}

int gw_lookup_busy(const struct gw_lookup *l)
{
	return l->busy;
}

void gw_lookup_free(struct gw_lookup *l)
{
	if (l == NULL)
		return;
	l->closing = true;
	tgm_pg_free(l->pg); /* the lookup in flight fails: its items go back */
	hand_back(l, l->head);
	free(l);
}
