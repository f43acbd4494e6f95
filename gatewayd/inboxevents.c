/*
 * inboxevents.c - the inbox on the live event stream (events.c calls it each tick):
 * a "conversation" event {conversation_id, item_id} to the tenant's clients for each
 * conversation that got new timeline items (a user's message, an event, a note) since
 * the last tick, read from conversation_items by id. One query a tick at most; an item
 * whose transaction commits after a higher id was seen is not announced (the
 * dashboard's slow poll catches it).
 */
#include "gatewayd/events.h"
#include "common/log.h"
#include "common/pgasync.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>

/* $1 the tenants with a client, $2 the last item announced (NULL: none yet) */
static const char news_sql[] =
	"WITH top AS (SELECT coalesce(max(id), 0) AS id FROM conversation_items)"
	" SELECT top.id, n.tenant_id, n.conversation_id, n.item FROM top LEFT JOIN LATERAL"
	" (SELECT i.tenant_id, i.conversation_id, max(i.id) AS item FROM conversation_items i"
	"  WHERE $2::bigint IS NOT NULL AND i.id > $2 AND i.id <= top.id"
	"  AND i.tenant_id = ANY($1::bigint[]) GROUP BY 1, 2) n ON true";

/* one event hub per gatewayd: the cursor and whether a query is in flight */
static int64_t last_item = -1;
static bool querying;

/* on_news - news_sql answered: a "conversation" event to each tenant for each
 * conversation with new items, and the cursor moved to the highest item seen */
static void on_news(PGresult *res, const char *err, void *arg)
{
	struct gw_events *ev = arg;
	int64_t tenant;
	char data[96];

	querying = false;
	if (err) {
		log_warn("events: inbox: %s", err);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		if (PQgetisnull(res, i, 1) || !tgm_parse_int64(PQgetvalue(res, i, 1), &tenant))
			continue;
		snprintf(data, sizeof(data), "{\"conversation_id\":%s,\"item_id\":%s}",
			 PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
		gw_events_send(ev, tenant, "conversation", data);
	}
	if (PQntuples(res) > 0)
		tgm_parse_int64(PQgetvalue(res, 0, 0), &last_item);
}

void gw_inboxevents_tick(struct gw_events *ev, struct tgm_pg *pg, const char *tenants)
{
	char after[24];

	if (querying)
		return;
	querying = true;
	snprintf(after, sizeof(after), "%lld", (long long)last_item);
	tgm_pg_query(pg, news_sql, 2,
		     (const char *const[]){ tenants, last_item < 0 ? NULL : after }, on_news, ev);
}
