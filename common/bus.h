/*
 * bus.h - ZeroMQ sockets on the libevent loop: doorbells and status events (PUB/SUB)
 * and work queues (PUSH/PULL). A message is two frames: a topic ("bot.42",
 * "msg.sent") and one JSON object.
 *
 * The bus carries wake-ups and notifications only, never data that exists nowhere
 * else: sends never block, and a message a full queue cannot take is dropped and
 * counted (the receiver sweeps the database anyway).
 */
#ifndef TGM_BUS_H
#define TGM_BUS_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

struct tgm_bus;

/* tgm_bus_cb - one message; topic and json are NUL-terminated and borrowed */
typedef void (*tgm_bus_cb)(const char *topic, const char *json, size_t len, void *arg);

/*
 * tgm_bus_open - a socket of type (ZMQ_PUB, ZMQ_SUB, ZMQ_PUSH, ZMQ_PULL) that binds
 * (bind=true) or connects to each endpoint of the space/comma separated list. The
 * directory of an ipc:// endpoint that binds is created. NULL with err on failure.
 */
struct tgm_bus *tgm_bus_open(struct event_base *base, void *zctx, int type, const char *endpoints,
			     bool bind, char *err, size_t errlen);
/* tgm_bus_subscribe - SUB only: receive topics starting with prefix ("" = all) */
void tgm_bus_subscribe(struct tgm_bus *b, const char *prefix);
/* tgm_bus_on_message - deliver received messages to cb (SUB, PULL) */
void tgm_bus_on_message(struct tgm_bus *b, tgm_bus_cb cb, void *arg);
/* tgm_bus_send - send without blocking; false when dropped */
bool tgm_bus_send(struct tgm_bus *b, const char *topic, const char *json, size_t len);
/* tgm_bus_dropped - messages dropped so far */
unsigned long tgm_bus_dropped(const struct tgm_bus *b);
void tgm_bus_close(struct tgm_bus *b);

/* tgm_bus_context - the process-wide ZeroMQ context; tgm_bus_term at exit */
void *tgm_bus_context(void);
void tgm_bus_term(void);

#endif
