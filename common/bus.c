/*
 * bus.c - ZeroMQ sockets integrated with libevent through ZMQ_FD (see bus.h).
 *
 * ZMQ_FD signals edge-style: it becomes readable when the socket's event state
 * changes, not while messages wait. So after every wake-up and every send we drain
 * while ZMQ_EVENTS says ZMQ_POLLIN, and a send re-arms a zero-delay check because it
 * may have consumed the edge that announced incoming messages.
 */
#include "common/bus.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#define BUS_HWM 10000
#define BUS_MAX_MSG (1 << 20)

struct tgm_bus {
	void *sock;
	int type;
	struct event *ev;
	tgm_bus_cb cb;
	void *arg;
	unsigned long dropped;
};

static void *bus_ctx;

void *tgm_bus_context(void)
{
	if (bus_ctx == NULL) {
		bus_ctx = zmq_ctx_new();
		if (bus_ctx == NULL)
			TGM_BUG("zmq_ctx_new: %s", zmq_strerror(errno));
	}
	return bus_ctx;
}

void tgm_bus_term(void)
{
	if (bus_ctx)
		zmq_ctx_term(bus_ctx);
	bus_ctx = NULL;
}

/* make_ipc_dir - mkdir -p the directory of an ipc:// path before binding */
static void make_ipc_dir(const char *ep, size_t n)
{
	char path[PATH_MAX];

	if (n <= 6 || strncmp(ep, "ipc://", 6) != 0 || n - 6 >= sizeof(path))
		return;
	memcpy(path, ep + 6, n - 6);
	path[n - 6] = '\0';
	for (char *p = path + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0750);
		*p = '/';
	}
}

/* ipc_in_use - a process already listens on this ipc:// path (binding would take its
 * place silently: ZeroMQ replaces the socket file) */
static bool ipc_in_use(const char *ep)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strncmp(ep, "ipc://", 6) != 0 || strlen(ep + 6) >= sizeof(sa.sun_path))
		return false;
	memcpy(sa.sun_path, ep + 6, strlen(ep + 6));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

/* attach_all - bind or connect the socket to each endpoint of the space-separated list;
 * false with err set at the first that fails (or, binding, that another process holds) */
static bool attach_all(struct tgm_bus *b, const char *endpoints, bool bind, char *err,
		       size_t errlen)
{
	const char *p = endpoints, *w;
	size_t n;

	while ((w = tgm_words_next(&p, &n))) {
		char ep[512];

		snprintf(ep, sizeof(ep), "%.*s", (int)n, w);
		if (bind && ipc_in_use(ep)) {
			snprintf(err, errlen, "cannot bind %s: another process is using it", ep);
			return false;
		}
		if (bind)
			make_ipc_dir(ep, n);
		if ((bind ? zmq_bind(b->sock, ep) : zmq_connect(b->sock, ep)) != 0) {
			snprintf(err, errlen, "cannot %s %s: %s", bind ? "bind" : "connect", ep,
				 zmq_strerror(errno));
			return false;
		}
	}
	return true;
}

/* has_input - whether a message waits on the socket (ZMQ_EVENTS: its fd is edge-triggered) */
static bool has_input(struct tgm_bus *b)
{
	int events = 0;
	size_t sz = sizeof(events);

	return zmq_getsockopt(b->sock, ZMQ_EVENTS, &events, &sz) == 0 && (events & ZMQ_POLLIN);
}

/* recv_frame - one frame as a NUL-terminated string; returns its length or -1 */
static int recv_frame(void *sock, zmq_msg_t *m, int *more)
{
	size_t sz = sizeof(*more);

	zmq_msg_init(m);
	if (zmq_msg_recv(m, sock, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(m);
		return -1;
	}
	zmq_getsockopt(sock, ZMQ_RCVMORE, more, &sz);
	return (int)zmq_msg_size(m);
}

/* recv_one - one two-frame message to the callback; false when none is waiting */
static bool recv_one(struct tgm_bus *b)
{
	zmq_msg_t tm, jm;
	int more = 0, tl, jl = 0;
	char *topic, *json = NULL;

	if ((tl = recv_frame(b->sock, &tm, &more)) < 0)
		return false;
	topic = tgm_xstrndup(zmq_msg_data(&tm), (size_t)tl);
	zmq_msg_close(&tm);
	if (more && (jl = recv_frame(b->sock, &jm, &more)) >= 0) {
		json = tgm_xstrndup(zmq_msg_data(&jm), (size_t)jl);
		zmq_msg_close(&jm);
	}
	while (more) { /* a malformed message with extra frames: discard them */
		if (recv_frame(b->sock, &jm, &more) < 0)
			break;
		zmq_msg_close(&jm);
	}
	if (json && b->cb)
		b->cb(topic, json, (size_t)jl, b->arg);
	else if (json == NULL)
		log_warn("bus: message with topic \"%.60s\" and no body dropped", topic);
	free(topic);
	free(json);
	return true;
}

/* on_event - the socket's fd woke: hand every waiting message to the callback, 1000 at
 * most before coming back through the loop */
static void on_event(evutil_socket_t fd, short what, void *arg)
{
	struct tgm_bus *b = arg;
	int budget = 1000; /* yield to the loop now and then */

	while (budget-- > 0 && has_input(b) && recv_one(b))
		;
	if (budget <= 0 && has_input(b))
		event_active(b->ev, EV_READ, 0);
}

struct tgm_bus *tgm_bus_open(struct event_base *base, void *zctx, int type, const char *endpoints,
			     bool bind, char *err, size_t errlen)
{
	struct tgm_bus *b = tgm_xcalloc(1, sizeof(*b));
	int hwm = BUS_HWM, linger = 0;
	int64_t maxmsg = BUS_MAX_MSG;
	size_t sz = sizeof(int);
	int fd;

	b->type = type;
	b->sock = zmq_socket(zctx, type);
	if (b->sock == NULL) {
		snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
		free(b);
		return NULL;
	}
	zmq_setsockopt(b->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(b->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(b->sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(b->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	if (!attach_all(b, endpoints, bind, err, errlen)) {
		zmq_close(b->sock);
		free(b);
		return NULL;
	}
	zmq_getsockopt(b->sock, ZMQ_FD, &fd, &sz);
	b->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_event, b);
	event_add(b->ev, NULL);
	return b;
}

void tgm_bus_subscribe(struct tgm_bus *b, const char *prefix)
{
	zmq_setsockopt(b->sock, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
}

void tgm_bus_on_message(struct tgm_bus *b, tgm_bus_cb cb, void *arg)
{
	b->cb = cb;
	b->arg = arg;
	event_active(b->ev, EV_READ, 0); /* messages may already wait */
}

bool tgm_bus_send(struct tgm_bus *b, const char *topic, const char *json, size_t len)
{
	bool ok = zmq_send(b->sock, topic, strlen(topic), ZMQ_DONTWAIT | ZMQ_SNDMORE) >= 0 &&
		  zmq_send(b->sock, json, len, ZMQ_DONTWAIT) >= 0;

	if (!ok)
		b->dropped++;
	if (b->cb)
		event_active(b->ev, EV_READ, 0);
	return ok;
}

unsigned long tgm_bus_dropped(const struct tgm_bus *b)
{
	return b->dropped;
}

void tgm_bus_close(struct tgm_bus *b)
{
	if (b == NULL)
		return;
	event_free(b->ev);
	zmq_close(b->sock);
	free(b);
}
