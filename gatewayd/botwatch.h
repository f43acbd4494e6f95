/*
 * botwatch.h - the bots whose getUpdates polls this gatewayd waits for, held in
 * PostgreSQL (sql/functions/botapi_watch.sql) so that only their updates are told
 * (see botwatch.c).
 */
#ifndef GW_BOTWATCH_H
#define GW_BOTWATCH_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

struct gw_botwatch;
struct tgm_pg;

/* gw_botwatch_ready - the watch of bot is in effect (or could not be taken): its polls
 * read now, or again */
typedef void (*gw_botwatch_ready)(int64_t bot_id, void *arg);

/* gw_botwatch_new - watches taken on pg (the LISTEN connection, not owned) */
struct gw_botwatch *gw_botwatch_new(struct event_base *base, struct tgm_pg *pg,
				    gw_botwatch_ready ready, void *arg);
/* gw_botwatch_hold - a poll of bot begins: true when the watch is in effect, so the poll
 * reads now; false when ready(bot) follows once it is */
bool gw_botwatch_hold(struct gw_botwatch *w, int64_t bot_id);
/* gw_botwatch_release - a poll of bot ended; the watch outlives it a while, for the next */
void gw_botwatch_release(struct gw_botwatch *w, int64_t bot_id);
/* gw_botwatch_renew - pg was remade: its watches ended with the old session; each one
 * still held is taken again, and ready(bot) follows */
void gw_botwatch_renew(struct gw_botwatch *w);
/* gw_botwatch_free - after pg's tgm_pg_free (its callbacks may still come until then) */
void gw_botwatch_free(struct gw_botwatch *w);

#endif
