/*
 * events.h - the live event stream (GET /v1/events), see events.c.
 */
#ifndef GW_EVENTS_H
#define GW_EVENTS_H

#include <stdint.h>

struct gatewayd;
struct gw_events;
struct gw_req;

struct gw_events *gw_events_new(struct gatewayd *gw);
/* gw_events_free - end every stream, then free */
void gw_events_free(struct gw_events *ev);
/* gw_events_wake - a message changed state (the status bus said so): read and send */
void gw_events_wake(struct gw_events *ev);
/* gw_events_close_all - end every stream (at drain: clients reconnect elsewhere) */
void gw_events_close_all(struct gw_events *ev);
int gw_events_clients(const struct gw_events *ev);
unsigned long gw_events_dropped(const struct gw_events *ev);
/* gw_events_send - data as event to every live client of tenant (0: every client) */
void gw_events_send(struct gw_events *ev, int64_t tenant, const char *event, const char *data);
/* inboxevents.c - each tick: "conversation" events for the tenants (an array literal) */
struct tgm_pg;
void gw_inboxevents_tick(struct gw_events *ev, struct tgm_pg *pg, const char *tenants);
/* gw_events_open - the handler of GET /v1/events */
void gw_events_open(struct gw_req *r);

#endif
