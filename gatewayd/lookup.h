/*
 * lookup.h - the bots that may reach the chats of messages naming none, read before the
 * messages queue for their INSERT (see lookup.c).
 */
#ifndef GW_LOOKUP_H
#define GW_LOOKUP_H

#include <stdbool.h>

struct gatewayd;
struct gw_lookup;
struct gw_msg;

/* gw_lookup_done - the chats of an item's messages are learned (or could not be) */
typedef void (*gw_lookup_done)(void *arg);

struct gw_lookup *gw_lookup_new(struct gatewayd *gw, gw_lookup_done done);
/* gw_lookup_free - every item waiting or in flight is handed back to done first */
void gw_lookup_free(struct gw_lookup *l);
/* gw_lookup_need - a message of msgs names no bot, and memory could choose it once it
 * knows that chat's bots */
bool gw_lookup_need(struct gatewayd *gw, struct gw_msg **msgs, int n);
/* gw_lookup_add - learn the chats of msgs (borrowed), then done(arg) */
void gw_lookup_add(struct gw_lookup *l, struct gw_msg **msgs, int n, void *arg);
/* gw_lookup_busy - items waiting or in flight */
int gw_lookup_busy(const struct gw_lookup *l);

#endif
