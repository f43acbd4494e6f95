/*
 * worker.h - slow work (password hashing) on a thread, its result back on the loop.
 */
#ifndef GW_WORKER_H
#define GW_WORKER_H

#include <event2/event.h>
#include <stdbool.h>

struct gw_worker;

struct gw_worker *gw_worker_new(struct event_base *base);
/* gw_worker_free - stop the thread; jobs still waiting are done here, then answered */
void gw_worker_free(struct gw_worker *w);
/* gw_worker_run - work(arg) on the thread, then done(arg) on the loop; false when full */
bool gw_worker_run(struct gw_worker *w, void (*work)(void *), void (*done)(void *), void *arg);
/* gw_worker_busy - jobs not yet done */
int gw_worker_busy(const struct gw_worker *w);

#endif
