/*
 * httpc.c - libcurl multi driven by libevent (see httpc.h); the shape of curl's
 * docs/examples/hiperfifo.c.
 *
 * curl tells us which sockets to watch (on_socket) and when to call it back
 * (on_timer_set); libevent events call curl_multi_socket_action, after which finished
 * transfers are collected with curl_multi_info_read and called back. Requests that
 * fail before reaching curl go on a list that a zero-delay event completes, so a
 * callback never runs inside tgm_httpc_request. Every transfer sits on `xfers` until
 * its callback has run, so tgm_httpc_free can complete them. Each also has a deadline
 * timer of its own: libcurl (7.88) does not apply CURLOPT_TIMEOUT to a transfer that
 * waits for a free connection (CURLMOPT_MAX_HOST_CONNECTIONS), so on_deadline does.
 *
 * "sent": the request body (or, without a body, the request head) was handed to the
 * kernel in full; from then on the server may have acted on it. libcurl must never
 * resend such a request silently: when a reused connection dies without an answer it
 * retries on a fresh one. A body under SMALL_POST bytes is given as CURLOPT_POSTFIELDS,
 * which libcurl (7.88: under 64 KiB) writes with the head in one send; every attempt
 * passes on_prereq just before it writes, and a second attempt is refused once any
 * byte of the request has been written (CURLINFO_REQUEST_SIZE counts the head's
 * writes over all attempts of a transfer). A larger body goes through a read callback,
 * and on_seek allows the rewind of a resend only while part of it was never handed
 * over (the server cannot have acted on a request it did not get whole).
 *
 * libcurl keeps at most CURLMOPT_MAXCONNECTS connections open; its default, 4 x the
 * transfers in flight now, closes connections at each dip in traffic that the next rise
 * opens again. Here it is 4 x the most transfers in flight yet.
 *
 * Sockets: curl forgets a kept-alive connection's socket at the end of each answer
 * and asks for it again with the next request; its watcher stays in the loop meanwhile
 * (idle), so a busy connection costs no epoll_ctl per request. Only a socket that
 * on_open_socket made and that carried a whole answer is kept so: libcurl closes such a
 * socket through on_close_socket, which takes it out of the loop first. An idle socket
 * that turns readable (the server closed it) leaves the loop; curl sees that it is dead
 * when it next looks. Watchers are found by descriptor (c->socks).
 *
 * A stream (tgm_httpc_stream) hands the response over as it arrives instead of keeping
 * it: its sink may ask for a pause (the next bytes are refused with
 * CURL_WRITEFUNC_PAUSE, so curl holds them and reads no more) until tgm_httpc_resume.
 */
#include "common/httpc.h"
#include "common/log.h"
#include "common/util.h"

#include <curl/curl.h>
#include <event2/event_struct.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* how many easy handles of finished transfers a client keeps for reuse */
#define SPARE_EASY 64
/* bytes of a response kept inside the transfer (a Bot API answer to a send fits) */
#define SMALL_BODY 1024
/* a body shorter than this is written with the request head (CURLOPT_POSTFIELDS); libcurl
 * 7.88 does so below 64 KiB */
#define SMALL_POST (32 * 1024)
/* parsed URLs a client keeps, by a hash of their text (see url_parsed) */
#define URL_SLOTS 256
/* libcurl's receive buffer for a lean transfer (a send's answer is a few hundred bytes):
 * its default, 16 KiB a transfer in flight, was about 10 of senderd's 62 MiB with 1,000
 * bots (1,024 in flight) */
#define LEAN_BUFFER 4096

/*
 * xfer - one request from tgm_httpc_request until its callback has run: one allocation
 * with what it copies behind it (the headers as libcurl's list, the URL's path, the
 * body), and the first SMALL_BODY bytes of the response inside.
 */
struct xfer {
	struct xfer *next, *prev; /* on c->xfers, or (next only) on c->failed */
	struct tgm_httpc *c;
	CURL *easy;
	CURLU *uh; /* the URL, parsed (easy_own): uslot's, or its own */
	struct url_slot *uslot;
	struct curl_slist *hdrs; /* nodes and texts in this allocation */
	char *path;              /* the URL's path and query, scrubbed from error texts; or NULL */
	char *body;              /* request body (a copy) */
	size_t body_len, body_off; /* body_off: bytes handed to libcurl by on_read */
	char *buf;                 /* response body: small, else allocated */
	size_t len, cap;
	int retry_after;
	int64_t first_byte_ms; /* when the last response's status line came */
	int timeout_ms;
	int attempts;      /* on_prereq calls: 2 and more are libcurl's resends */
	bool lean;         /* a POST of a small body, no stream: its easy handle stays set up */
	bool deadline_set; /* ev_deadline is assigned */
	bool too_big;
	bool timed_out;    /* on_deadline ended it */
	bool no_rewind;    /* a resend was refused: the request had been handed over */
	bool refused_addr; /* on_open_socket refused a private address */
	char refused[64];  /* that address, for the error text */
	const char *fail;  /* set when it fails without curl */
	tgm_httpc_cb cb;
	void *arg;
	const struct tgm_httpc_sink *sink; /* a stream's, else NULL */
	bool head_told;                    /* the sink has the status and headers */
	bool full;                         /* the sink asked for a pause */
	bool paused;                       /* curl holds bytes the sink refused */
	struct event ev_deadline;
	char errbuf[CURL_ERROR_SIZE];
	char small[SMALL_BODY];
};

/* url_slot - a URL's text and its parse, shared by the transfers to it (refs) */
struct url_slot {
	char *url;
	CURLU *uh;
	int refs;
};

/* hsock - the watcher of one socket descriptor (c->socks[fd]), kept for the next socket
 * with that number */
struct hsock {
	struct event ev;
	struct tgm_httpc *c;
	curl_socket_t fd;
	short kind; /* what ev waits for (EV_PERSIST with EV_READ, EV_WRITE); 0: not added */
	bool ours;  /* made by on_open_socket: libcurl closes it through on_close_socket */
	bool idle;  /* curl forgot it between two requests; ev is still added */
};

struct tgm_httpc {
	struct event_base *base;
	CURLM *multi;
	struct event *ev_timer;
	struct event *ev_fail;
	struct xfer *xfers;   /* in curl's hands */
	struct xfer *failed;  /* to complete from ev_fail */
	struct hsock **socks; /* by descriptor, nsocks of them (NULL: never watched) */
	int nsocks;
	int inflight;
	long maxconnects; /* CURLMOPT_MAXCONNECTS: 4 x the most requests in flight yet */
	int depth;        /* > 0 while callbacks run */
	bool closing;
	bool public_only; /* tgm_httpc_public_only: refuse non-public addresses */
	bool no_proxy;    /* no proxy variable in the environment (proxy_env_none) */
	char *user_agent;
	CURL *spare[SPARE_EASY];     /* easy handles of finished transfers, for reuse */
	bool spare_lean[SPARE_EASY]; /* still set up for a lean transfer (see easy_put) */
	int nspare;
	struct url_slot urls[URL_SLOTS]; /* parsed URLs (url_parsed) */
};

static bool curl_ready;

/* LIST_PUSH, LIST_DROP - the doubly linked list of transfers */
#define LIST_PUSH(head, x) \
	do { \
		(x)->prev = NULL; \
		(x)->next = (head); \
		if (head) \
			(head)->prev = (x); \
		(head) = (x); \
	} while (0)
#define LIST_DROP(head, x) \
	do { \
		if ((x)->prev) \
			(x)->prev->next = (x)->next; \
		else \
			(head) = (x)->next; \
		if ((x)->next) \
			(x)->next->prev = (x)->prev; \
		(x)->next = (x)->prev = NULL; \
	} while (0)

/* easy_get - an easy handle for a new transfer: a spare one, else a new one (NULL: out
 * of memory); *lean tells whether it is still set up for a lean transfer */
static CURL *easy_get(struct tgm_httpc *c, bool *lean)
{
	*lean = false;
	if (c->nspare == 0)
		return curl_easy_init();
	c->nspare--;
	*lean = c->spare_lean[c->nspare];
	return c->spare[c->nspare];
}

/*
 * easy_put - a finished transfer's easy handle (out of the multi handle), kept for the
 * next transfer, which then costs no allocation of curl's state: a lean one's as it is
 * set up (the next lean transfer sets only what differs, see easy_setup), any other
 * reset; cleaned up when enough are kept or the client is closing
 */
static void easy_put(struct tgm_httpc *c, CURL *e, bool lean)
{
	if (!c->closing && c->nspare < SPARE_EASY) {
		if (!lean)
			curl_easy_reset(e);
		c->spare_lean[c->nspare] = lean;
		c->spare[c->nspare++] = e;
	} else {
		curl_easy_cleanup(e);
	}
}

/* easy_forget_setup - the client's settings changed: no spare handle is still set up */
static void easy_forget_setup(struct tgm_httpc *c)
{
	for (int i = 0; i < c->nspare; i++) {
		if (c->spare_lean[i])
			curl_easy_reset(c->spare[i]);
		c->spare_lean[i] = false;
	}
}

/* xfer_free - the transfer and all it holds (the caller has unlinked it) */
static void xfer_free(struct xfer *x)
{
	if (x->easy) {
		curl_easy_setopt(x->easy, CURLOPT_CURLU, NULL);
		easy_put(x->c, x->easy, x->lean);
	}
	if (x->uslot)
		x->uslot->refs--;
	else
		curl_url_cleanup(x->uh);
	if (x->deadline_set)
		event_del(&x->ev_deadline);
	if (x->buf != x->small)
		free(x->buf);
	free(x);
}

/* scrub - remove the URL's path from a curl message, then the usual secrets */
static void scrub(char *msg, const char *path)
{
	size_t n = path ? strlen(path) : 0;
	char *p;

	while (n > 4 && (p = strstr(msg, path)) != NULL) {
		memmove(p + 4, p + n, strlen(p + n) + 1);
		memcpy(p, "/***", 4);
	}
	tgm_redact(msg);
}

/*
 * xfer_sent - did the whole request leave? (see the file comment) libcurl zeroes its
 * counters before it asks to rewind for a resend, hence no_rewind.
 */
static bool xfer_sent(struct xfer *x)
{
	curl_off_t up = 0;
	long head = 0;

	if (x->no_rewind)
		return true;
	if (x->body_len > 0) {
		curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &up);
		return up >= (curl_off_t)x->body_len;
	}
	curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &head);
	return head > 0;
}

/* xfer_complete - fill in the answer and call back; the caller frees x */
static void xfer_complete(struct xfer *x, CURLcode rc)
{
	struct tgm_httpc_resp r = { .body = "", .retry_after = -1 };
	char msg[CURL_ERROR_SIZE + 64];

	if (x->easy) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r.status);
		curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &r.seconds);
		r.sent = (rc == CURLE_OK && x->fail == NULL) || xfer_sent(x);
		r.retry_after = x->retry_after;
		r.first_byte_ms = x->first_byte_ms;
	}
	r.body = x->buf;
	r.len = x->len;
	if (x->fail) {
		r.error = x->fail;
	} else if (x->refused_addr && rc != CURLE_OK) {
		snprintf(msg, sizeof(msg),
			 "refused: %s is a loopback, private or link-local"
			 " address",
			 x->refused);
		r.error = msg;
	} else if (x->no_rewind && rc != CURLE_OK) {
		r.error = "connection lost after the request was sent (not resent)";
	} else if (x->timed_out) {
		snprintf(msg, sizeof(msg), "timed out after %d ms%s", x->timeout_ms,
			 r.sent ? "" : " (request not sent)");
		r.error = msg;
	} else if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(msg, sizeof(msg), "response larger than %d bytes", TGM_HTTPC_MAX_BODY);
		r.error = msg;
	} else if (rc != CURLE_OK) {
		snprintf(msg, sizeof(msg), "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		scrub(msg, x->path);
		r.error = msg;
	}
	x->c->inflight--;
	x->c->depth++;
	x->cb(&r, x->arg);
	x->c->depth--;
}

/* collect - call back every transfer curl has finished */
static void collect(struct tgm_httpc *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		CURLcode rc = m->data.result; /* m is invalid after remove_handle */
		struct xfer *x;
		char *priv = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct xfer *)priv;
		curl_multi_remove_handle(c->multi, x->easy);
		LIST_DROP(c->xfers, x);
		xfer_complete(x, rc);
		xfer_free(x);
	}
}

/* on_deadline - the request's time is up, whether curl noticed or not */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct xfer *x = arg;
	struct tgm_httpc *c = x->c;

	curl_multi_remove_handle(c->multi, x->easy);
	LIST_DROP(c->xfers, x);
	x->timed_out = true;
	xfer_complete(x, CURLE_OPERATION_TIMEDOUT);
	xfer_free(x);
}

/* on_timer - curl's timer expired: let it act on timeouts and new transfers */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tgm_httpc *c = arg;
	int running;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect(c);
}

/* on_timer_set - CURLMOPT_TIMERFUNCTION: -1 stops the timer */
static int on_timer_set(CURLM *multi, long timeout_ms, void *arg)
{
	struct tgm_httpc *c = arg;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	if (timeout_ms < 0)
		evtimer_del(c->ev_timer);
	else
		evtimer_add(c->ev_timer, &tv);
	return 0;
}

/* sock_unwatch - h leaves the loop */
static void sock_unwatch(struct hsock *h)
{
	if (h->kind)
		event_del(&h->ev);
	h->kind = 0;
	h->idle = false;
}

/* on_sock_event - a watched socket is ready: hand it to curl; an idle one leaves the loop */
static void on_sock_event(evutil_socket_t fd, short what, void *arg)
{
	struct hsock *h = arg;
	struct tgm_httpc *c = h->c;
	int action = (what & EV_READ ? CURL_CSELECT_IN : 0) |
		     (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	if (h->idle) { /* the server closed it, or talks out of turn: curl finds out on reuse */
		sock_unwatch(h);
		return;
	}
	curl_multi_socket_action(c->multi, fd, action, &running);
	collect(c);
}

/* sock_of - the watcher of descriptor fd, made when there is none yet */
static struct hsock *sock_of(struct tgm_httpc *c, curl_socket_t fd)
{
	struct hsock *h;

	if (fd >= c->nsocks) {
		int n = c->nsocks ? c->nsocks : 64;

		while (n <= fd)
			n *= 2;
		c->socks = tgm_xrealloc(c->socks, (size_t)n * sizeof(*c->socks));
		memset(c->socks + c->nsocks, 0, (size_t)(n - c->nsocks) * sizeof(*c->socks));
		c->nsocks = n;
	}
	if ((h = c->socks[fd]) == NULL) {
		h = c->socks[fd] = tgm_xcalloc(1, sizeof(*h));
		h->c = c;
		h->fd = fd;
	}
	return h;
}

/* answered - the transfer of easy has had an HTTP answer (its socket is a connection's) */
static bool answered(CURL *easy)
{
	long status = 0;

	return easy && curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
	       status != 0;
}

/*
 * on_socket - CURLMOPT_SOCKETFUNCTION: watch s as curl asks, or forget it. A socket of
 * ours waiting for the next request (curl forgets it after an answer) stays added, idle;
 * asked for again as it is, it costs nothing.
 */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct tgm_httpc *c = arg;
	struct hsock *h = sock_of(c, s);
	short kind = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (h->ours && h->kind == (EV_PERSIST | EV_READ) && answered(easy)) {
			h->idle = true;
			return 0;
		}
		sock_unwatch(h);
		h->ours = false;
		return 0;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	h->idle = false;
	if (h->kind == kind)
		return 0;
	sock_unwatch(h);
	event_assign(&h->ev, c->base, s, kind, on_sock_event, h);
	event_add(&h->ev, NULL);
	h->kind = kind;
	return 0;
}

/* on_close_socket - CURLOPT_CLOSESOCKETFUNCTION: out of the loop, then closed */
static int on_close_socket(void *arg, curl_socket_t s)
{
	struct tgm_httpc *c = arg;

	if (s >= 0 && s < c->nsocks && c->socks[s]) {
		sock_unwatch(c->socks[s]);
		c->socks[s]->ours = false;
	}
	return close(s);
}

/* on_fail - complete the requests that failed without curl */
static void on_fail(evutil_socket_t fd, short what, void *arg)
{
	struct tgm_httpc *c = arg;

	while (c->failed) {
		struct xfer *x = c->failed;

		c->failed = x->next;
		xfer_complete(x, CURLE_OK);
		xfer_free(x);
	}
}

/* fail_later - complete x with error why from the loop, not now */
static void fail_later(struct tgm_httpc *c, struct xfer *x, const char *why)
{
	x->fail = why;
	x->next = c->failed;
	c->failed = x;
	event_active(c->ev_fail, 0, 0);
}

/* stream_write - a stream's bytes to its sink (the head first) */
static size_t stream_write(struct xfer *x, char *data, size_t n)
{
	int r;

	if (x->full) {
		x->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (!x->head_told) {
		long status = 0;
		char *type = NULL;
		curl_off_t length = -1;

		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &type);
		curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
		x->head_told = true;
		x->sink->head(status, type, (long long)length, x->arg);
	}
	r = x->sink->data(data, n, x->arg);
	if (r == TGM_HTTPC_ABORT)
		return 0;
	x->full = r == TGM_HTTPC_PAUSE;
	return n;
}

/* on_write - CURLOPT_WRITEFUNCTION: append to the body, up to the cap */
static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	n *= size;
	if (x->sink)
		return stream_write(x, data, n);
	if (x->len + n > TGM_HTTPC_MAX_BODY) {
		x->too_big = true;
		return 0;
	}
	if (x->len + n + 1 > x->cap) {
		while (x->len + n + 1 > x->cap)
			x->cap *= 2;
		if (x->buf == x->small) {
			x->buf = tgm_xmalloc(x->cap);
			memcpy(x->buf, x->small, x->len);
		} else {
			x->buf = tgm_xrealloc(x->buf, x->cap);
		}
	}
	memcpy(x->buf + x->len, data, n);
	x->len += n;
	x->buf[x->len] = '\0';
	return n;
}

#define RETRY_AFTER_MAX (86400 * 365) /* a longer wait is a year */

/* parse_retry_after - "120" or an HTTP date into seconds from now (at most
 * RETRY_AFTER_MAX); -1 if neither */
static int parse_retry_after(const char *v, size_t n)
{
	char s[64];
	char *end;
	long secs;
	time_t t;

	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	while (n > 0 && (*v == ' ' || *v == '\t'))
		v++, n--;
	if (n == 0 || n >= sizeof(s))
		return -1;
	memcpy(s, v, n);
	s[n] = '\0';
	secs = strtol(s, &end, 10);
	if (end != s && *end == '\0')
		return secs < 0 ? -1 : secs > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : (int)secs;
	t = curl_getdate(s, NULL);
	if (t < 0)
		return -1;
	/* a date years ahead is capped like a number (it overflowed an int before) */
	t -= time(NULL);
	return t <= 0 ? 0 : t > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : (int)t;
}

/* on_header - CURLOPT_HEADERFUNCTION: keep Retry-After of the last response, and when
 * its first line came */
static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	static const char name[] = "retry-after:";

	n *= size;
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		x->retry_after = -1; /* a new response (after a 100 Continue, say) */
		x->first_byte_ms = tgm_mono_ms();
	} else if (n > sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0)
		x->retry_after = parse_retry_after(line + sizeof(name) - 1, n - (sizeof(name) - 1));
	return n;
}

/* on_read - CURLOPT_READFUNCTION: the next piece of the request body */
static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t left = x->body_len - x->body_off;

	n *= size;
	if (n > left)
		n = left;
	memcpy(buf, x->body + x->body_off, n);
	x->body_off += n;
	return n;
}

/* on_seek - CURLOPT_SEEKFUNCTION: rewind for a resend only if the body never left whole */
static int on_seek(void *arg, curl_off_t offset, int origin)
{
	struct xfer *x = arg;

	if (origin != SEEK_SET || offset != 0 || x->body_off >= x->body_len) {
		x->no_rewind = true;
		return CURL_SEEKFUNC_CANTSEEK;
	}
	x->body_off = 0;
	return CURL_SEEKFUNC_OK;
}

/*
 * on_prereq - CURLOPT_PREREQFUNCTION: an attempt is about to write the request. A second
 * one is libcurl resending after its reused connection died; refused once any byte of
 * the request had been written (see the file comment). A write that wrote nothing
 * failed: on a kept-alive connection, whose previous exchange was answered, the kernel
 * takes a request's first bytes without waiting, so nothing can have left later.
 */
static int on_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	struct xfer *x = arg;
	long written = 0;

	if (++x->attempts == 1)
		return CURL_PREREQFUNC_OK;
	curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &written);
	if (written == 0)
		return CURL_PREREQFUNC_OK;
	x->no_rewind = true;
	return CURL_PREREQFUNC_ABORT;
}

/* easy_body - send x->body with method (POST unless told otherwise): a small one with the
 * head, a larger one through on_read */
static CURLcode easy_body(struct xfer *x, const char *method)
{
	CURL *e = x->easy;
	CURLcode rc = CURLE_OK;

	rc |= curl_easy_setopt(e, CURLOPT_POST, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
	if (x->body_len < SMALL_POST) {
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
		rc |= curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
		rc |= curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
	} else {
		rc |= curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		rc |= curl_easy_setopt(e, CURLOPT_READDATA, x);
		rc |= curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		rc |= curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
	}
	if (strcmp(method, "POST") != 0)
		rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	return rc;
}

/* v4_public - false for 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12,
 * 192.0.0/24, 192.168/16, 198.18/15 and 224/3 (multicast, reserved, broadcast) */
static bool v4_public(const unsigned char *a)
{
	return !(a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 ||
		 (a[0] == 100 && (a[1] & 0xc0) == 64) || (a[0] == 169 && a[1] == 254) ||
		 (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
		 (a[0] == 192 && a[1] == 0 && a[2] == 0) || (a[0] == 198 && (a[1] & 0xfe) == 18));
}

bool tgm_httpc_addr_public(const struct sockaddr *sa)
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const unsigned char *a;

	if (sa->sa_family == AF_INET)
		return v4_public(
			(const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
	if (sa->sa_family != AF_INET6)
		return false;
	a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (memcmp(a, v4mapped, 12) == 0) /* ::ffff:a.b.c.d */
		return v4_public(a + 12);
	return !(a[0] == 0 /* ::, ::1 and other reserved */ || (a[0] & 0xfe) == 0xfc /* ULA */ ||
		 (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) /* link-local */ ||
		 (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) /* site-local */ || a[0] == 0xff);
}

/* on_open_socket - CURLOPT_OPENSOCKETFUNCTION: a socket of ours (see sock_of). For a
 * public-only client the resolved address is checked right before connect, so no DNS
 * answer can slip past. */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = arg;
	curl_socket_t s;
	struct hsock *h;

	if (x->c->public_only && !tgm_httpc_addr_public(&a->addr)) {
		x->refused_addr = true;
		if (getnameinfo(&a->addr, a->addrlen, x->refused, sizeof(x->refused), NULL, 0,
				NI_NUMERICHOST) != 0)
			snprintf(x->refused, sizeof(x->refused), "the address");
		return CURL_SOCKET_BAD;
	}
	s = socket(a->family, a->socktype, a->protocol);
	if (s < 0)
		return CURL_SOCKET_BAD;
	h = sock_of(x->c, s);
	sock_unwatch(h); /* a descriptor closed without us (a resolver's): its old watcher */
	h->ours = true;
	return s;
}

/* url_hash - FNV-1a of a URL's text */
static uint32_t url_hash(const char *url)
{
	uint32_t h = 2166136261u;

	for (; *url; url++)
		h = (h ^ (unsigned char)*url) * 16777619u;
	return h;
}

/*
 * url_parsed - x's URL parsed as libcurl parses a URL given as text: the parse kept in
 * its slot of c->urls (most sends of a bot go to the same few URLs), else a new one,
 * kept there when no transfer still uses the slot's, else x's own; NULL if it does not
 * parse (or no memory)
 */
static CURLU *url_parsed(struct xfer *x, const char *url)
{
	struct url_slot *slot = &x->c->urls[url_hash(url) % URL_SLOTS];
	CURLU *uh;

	if (slot->url && strcmp(slot->url, url) == 0) {
		slot->refs++;
		x->uslot = slot;
		return slot->uh;
	}
	uh = curl_url();
	if (uh == NULL ||
	    curl_url_set(uh, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) !=
		    CURLUE_OK) {
		curl_url_cleanup(uh);
		return NULL;
	}
	if (slot->refs == 0 && !x->c->closing) {
		free(slot->url);
		curl_url_cleanup(slot->uh);
		slot->url = tgm_xstrdup(url);
		slot->uh = uh;
		slot->refs = 1;
		x->uslot = slot;
	}
	return uh;
}

/*
 * easy_own - what of x->easy's setup is x's own: set for every transfer. The URL is
 * given twice, as text and parsed (url_parsed): given as text alone, libcurl parses it
 * at each transfer and then prints it back normalized, with its own printf writing a
 * byte at a time (11,000 instructions a request, 7 % of senderd's, and 6,000 more for
 * the parse); given parsed too, it copies the parts and keeps the text.
 */
static CURLcode easy_own(struct xfer *x, const char *url, int timeout_ms)
{
	CURL *e = x->easy;
	CURLcode rc = CURLE_OK;

	if ((x->uh = url_parsed(x, url)) == NULL)
		return CURLE_URL_MALFORMAT;
	rc |= curl_easy_setopt(e, CURLOPT_URL, url);
	rc |= curl_easy_setopt(e, CURLOPT_CURLU, x->uh);
	rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	rc |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
	return rc;
}

/*
 * easy_setup - configure x->easy; false if libcurl refused an option. A handle still set
 * up for a lean transfer (ready) takes only x's own options and body.
 */
static bool easy_setup(struct xfer *x, const char *method, const char *url, bool has_body,
		       int timeout_ms, bool ready)
{
	CURL *e = x->easy;
	CURLcode rc = easy_own(x, url, timeout_ms);

	if (ready)
		return (rc | easy_body(x, method)) == CURLE_OK;
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	/* compressed answers, but not to a small POST (a send, answered in a few hundred
	 * bytes): libcurl prints the Accept-Encoding header afresh for every request, 3 % of
	 * senderd's CPU */
	if (x->sink == NULL) {
		rc |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
				       (curl_off_t)TGM_HTTPC_MAX_BODY);
		rc |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, x->lean ? NULL : "");
	}
	if (x->lean)
		rc |= curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)LEAN_BUFFER);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	rc |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	rc |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
	rc |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, x->c);
	if (x->c->user_agent)
		rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, x->c->user_agent);
	if (x->c->public_only) /* a proxy would be the address checked: none */
		rc |= curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	else if (x->c->no_proxy)
		rc |= curl_easy_setopt(e, CURLOPT_NOPROXY, "");
	if (x->c->no_proxy)
		rc |= curl_easy_setopt(e, CURLOPT_PROXY, "");
	if (strcmp(method, "HEAD") == 0)
		rc |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (has_body || strcmp(method, "POST") == 0)
		rc |= easy_body(x, method);
	else if (strcmp(method, "GET") != 0)
		rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	return rc == CURLE_OK;
}

/* url_path - the part of url after scheme://host[:port], or NULL */
static const char *url_path(const char *url)
{
	const char *p = strstr(url, "://");

	p = strchr(p ? p + 3 : url, '/');
	return p && p[1] ? p : NULL;
}

/* add_deadline - arm on_deadline timeout_ms from now */
static void add_deadline(struct xfer *x)
{
	struct timeval tv = { x->timeout_ms / 1000, (x->timeout_ms % 1000) * 1000 };

	evtimer_assign(&x->ev_deadline, x->c->base, on_deadline, x);
	x->deadline_set = true;
	evtimer_add(&x->ev_deadline, &tv);
}

/*
 * xfer_new - a transfer holding copies of the headers (with "Expect:" last: no
 * 100-continue round trip), the URL's path and the body, all in one allocation
 */
static struct xfer *xfer_new(const char *url, const char *const *headers, const char *body,
			     size_t len)
{
	static const char expect[] = "Expect:";
	const char *path = url_path(url);
	size_t nh = 0, texts = sizeof(expect), plen = path ? strlen(path) + 1 : 0, size;
	struct curl_slist *nodes;
	struct xfer *x;
	char *p;

	for (; headers && headers[nh]; nh++)
		texts += strlen(headers[nh]) + 1;
	size = sizeof(*x) + (nh + 1) * sizeof(*nodes) + texts + plen + len + 1;
	x = tgm_xmalloc(size);
	memset(x, 0, offsetof(struct xfer, small));
	x->small[0] = '\0';
	nodes = (struct curl_slist *)(x + 1);
	p = (char *)(nodes + nh + 1);
	for (size_t i = 0; i <= nh; i++) {
		const char *h = i < nh ? headers[i] : expect;
		size_t n = strlen(h) + 1;

		nodes[i].data = memcpy(p, h, n);
		nodes[i].next = i < nh ? &nodes[i + 1] : NULL;
		p += n;
	}
	x->hdrs = nodes;
	x->path = path ? memcpy(p, path, plen) : NULL;
	x->body = p + plen;
	x->body_len = body ? len : 0;
	if (x->body_len)
		memcpy(x->body, body, x->body_len);
	x->body[x->body_len] = '\0';
	x->buf = x->small;
	x->cap = sizeof(x->small);
	return x;
}

/* start - a request, or a stream when sink is not NULL */
static struct xfer *start(struct tgm_httpc *c, const char *method, const char *url,
			  const char *const *headers, const char *body, size_t len, int timeout_ms,
			  const struct tgm_httpc_sink *sink, tgm_httpc_cb cb, void *arg)
{
	struct xfer *x = xfer_new(url, headers, body, len);
	bool ready;

	x->c = c;
	x->cb = cb;
	x->arg = arg;
	x->sink = sink;
	x->retry_after = -1;
	x->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
	if (++c->inflight * 4L > c->maxconnects) {
		c->maxconnects = c->inflight * 4L;
		curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, c->maxconnects);
	}
	if (c->closing) {
		fail_later(c, x, "client closed");
		return x;
	}
	x->lean = sink == NULL && body != NULL && len < SMALL_POST && strcmp(method, "POST") == 0;
	x->easy = easy_get(c, &ready);
	if (x->easy == NULL) {
		fail_later(c, x, "out of memory");
		return x;
	}
	if (ready && !x->lean)
		curl_easy_reset(x->easy);
	if (!easy_setup(x, method, url, body != NULL, x->timeout_ms, ready && x->lean)) {
		x->lean = false; /* its handle is reset before reuse */
		fail_later(c, x, "request refused by libcurl (bad URL or option)");
		return x;
	}
	if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) {
		fail_later(c, x, "request refused by libcurl");
		return x;
	}
	LIST_PUSH(c->xfers, x);
	if (x->timeout_ms > 0)
		add_deadline(x);
	return x;
}

void tgm_httpc_request(struct tgm_httpc *c, const char *method, const char *url,
		       const char *const *headers, const char *body, size_t len, int timeout_ms,
		       tgm_httpc_cb cb, void *arg)
{
	start(c, method, url, headers, body, len, timeout_ms, NULL, cb, arg);
}

struct tgm_httpc_xfer *tgm_httpc_stream(struct tgm_httpc *c, const char *url,
					const char *const *headers, int timeout_ms,
					const struct tgm_httpc_sink *sink, tgm_httpc_cb cb,
					void *arg)
{
	return (struct tgm_httpc_xfer *)start(c, "GET", url, headers, NULL, 0, timeout_ms, sink, cb,
					      arg);
}

void tgm_httpc_resume(struct tgm_httpc_xfer *handle)
{
	struct xfer *x = (struct xfer *)handle;

	x->full = false;
	if (!x->paused || x->easy == NULL)
		return;
	x->paused = false;
	curl_easy_pause(x->easy, CURLPAUSE_CONT); /* curl's timer takes it up again */
}

/* proxy_env_none - none of the variables libcurl takes a proxy from is set. libcurl
 * reads them for every request (five getenv, 1 % of senderd's CPU); the environment of a
 * daemon does not change, so when none is set the handles say "no proxy" instead */
static bool proxy_env_none(void)
{
	static const char *const vars[] = { "http_proxy", "https_proxy", "HTTPS_PROXY",
					    "all_proxy",  "ALL_PROXY",   "no_proxy",
					    "NO_PROXY",   "socks_proxy", "SOCKS_PROXY" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (getenv(vars[i]))
			return false;
	return true;
}

struct tgm_httpc *tgm_httpc_new(struct event_base *base, int max_per_host)
{
	struct tgm_httpc *c = tgm_xcalloc(1, sizeof(*c));

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			log_fatal("curl_global_init failed");
		curl_ready = true;
	}
	c->base = base;
	c->no_proxy = proxy_env_none();
	c->multi = curl_multi_init();
	if (c->multi == NULL)
		TGM_BUG("curl_multi_init failed");
	c->ev_timer = evtimer_new(base, on_timer, c);
	c->ev_fail = event_new(base, -1, 0, on_fail, c);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)(max_per_host > 0 ? max_per_host : 1));
	return c;
}

void tgm_httpc_public_only(struct tgm_httpc *c)
{
	c->public_only = true;
	easy_forget_setup(c);
}

void tgm_httpc_user_agent(struct tgm_httpc *c, const char *ua)
{
	free(c->user_agent);
	c->user_agent = tgm_xstrdup(ua);
	easy_forget_setup(c);
}

int tgm_httpc_inflight(const struct tgm_httpc *c)
{
	return c->inflight;
}

/* close_all - complete every transfer still in curl's hands with "client closed" */
static void close_all(struct tgm_httpc *c)
{
	while (c->xfers) {
		struct xfer *x = c->xfers;

		LIST_DROP(c->xfers, x);
		curl_multi_remove_handle(c->multi, x->easy);
		x->fail = "client closed";
		xfer_complete(x, CURLE_OK);
		xfer_free(x);
	}
}

void tgm_httpc_free(struct tgm_httpc *c)
{
	if (c == NULL)
		return;
	if (c->depth > 0)
		TGM_BUG("tgm_httpc_free called from inside an httpc callback");
	c->closing = true;
	close_all(c);
	on_fail(-1, 0, c);
	while (c->nspare > 0)
		curl_easy_cleanup(c->spare[--c->nspare]);
	for (int i = 0; i < URL_SLOTS; i++) {
		free(c->urls[i].url);
		curl_url_cleanup(c->urls[i].uh);
	}
	curl_multi_cleanup(c->multi); /* closes every connection through on_close_socket */
	for (int i = 0; i < c->nsocks; i++) {
		if (c->socks[i])
			sock_unwatch(c->socks[i]);
		free(c->socks[i]);
	}
	free(c->socks);
	event_free(c->ev_timer);
	event_free(c->ev_fail);
	free(c->user_agent);
	free(c);
}
