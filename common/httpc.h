/*
 * httpc.h - an asynchronous HTTP client: libcurl's multi interface on a libevent loop.
 *
 * One client = one curl multi handle, so connections are kept alive and reused, at most
 * max_per_host at a time per host (more requests wait in curl's queue). Requests are
 * copied; each completes exactly once with a callback that never runs inside
 * tgm_httpc_request. HTTP/1.1, no redirects, no signals, responses capped at
 * TGM_HTTPC_MAX_BODY bytes. Used by telegram.c; knows nothing of Telegram.
 *
 * The first tgm_httpc_new calls curl_global_init (not thread-safe: create the first
 * client before starting any thread that uses curl). curl_global_cleanup is never called.
 */
#ifndef TGM_HTTPC_H
#define TGM_HTTPC_H

#include <event2/event.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TGM_HTTPC_MAX_BODY (4 * 1024 * 1024)

struct tgm_httpc;

/* tgm_httpc_resp - what came back; every pointer is borrowed until the callback returns */
struct tgm_httpc_resp {
	long status;      /* HTTP status, 0 when no response */
	const char *body; /* NUL-terminated ("" when none) */
	size_t len;
	const char *error;     /* NULL when a whole HTTP response arrived; else one line */
	bool sent;             /* the whole request left before the failure (ambiguous outcome) */
	int retry_after;       /* Retry-After header in seconds, -1 when absent */
	double seconds;        /* total time */
	int64_t first_byte_ms; /* when the response's status line came (tgm_mono_ms: the
				* server had the request by then); 0 when none came */
};

typedef void (*tgm_httpc_cb)(const struct tgm_httpc_resp *r, void *arg);

/* tgm_httpc_new - a client on base; max_per_host >= 1 connections per host */
struct tgm_httpc *tgm_httpc_new(struct event_base *base, int max_per_host);

/*
 * tgm_httpc_request - start a request; cb runs once, later, from the loop.
 * method: "GET", "POST", or any other verb. headers: NULL-terminated array of
 * "Name: value", or NULL. body (len bytes, copied) may be NULL: a GET, or an empty body.
 * timeout_ms bounds the whole exchange, including the wait for a free connection (0: none).
 * The error text never holds the URL's path, but it may name the host.
 */
void tgm_httpc_request(struct tgm_httpc *c, const char *method, const char *url,
		       const char *const *headers, const char *body, size_t len, int timeout_ms,
		       tgm_httpc_cb cb, void *arg);

/*
 * tgm_httpc_public_only - from now on c refuses to connect to loopback, private,
 * link-local, multicast and other non-public addresses (checked on each resolved
 * address right before connect, so DNS cannot get around it), and uses no proxy.
 * Such a request fails with error "refused: ADDR is a loopback, private or link-local
 * address".
 */
void tgm_httpc_public_only(struct tgm_httpc *c);
/* tgm_httpc_addr_public - false for the addresses a public-only client refuses */
bool tgm_httpc_addr_public(const struct sockaddr *sa);
/* tgm_httpc_user_agent - the User-Agent header of c's requests (copied) */
void tgm_httpc_user_agent(struct tgm_httpc *c, const char *ua);

/*
 * Streams: a GET whose response is handed to a sink as it arrives, never kept (no size
 * cap, no decoding). head runs once, before the first bytes (content_type may be NULL,
 * length is -1 when unknown); data takes each piece and answers TGM_HTTPC_MORE,
 * TGM_HTTPC_PAUSE (taken, but hand over no more until tgm_httpc_resume) or
 * TGM_HTTPC_ABORT (the transfer fails). cb then runs once as for a request, with an
 * empty body. The handle is valid until cb has run.
 */
enum { TGM_HTTPC_MORE = 0, TGM_HTTPC_PAUSE = 1, TGM_HTTPC_ABORT = -1 };
struct tgm_httpc_sink {
	void (*head)(long status, const char *content_type, long long length, void *arg);
	int (*data)(const char *data, size_t len, void *arg);
};
struct tgm_httpc_xfer;
struct tgm_httpc_xfer *tgm_httpc_stream(struct tgm_httpc *c, const char *url,
					const char *const *headers, int timeout_ms,
					const struct tgm_httpc_sink *sink, tgm_httpc_cb cb,
					void *arg);
/* tgm_httpc_resume - a paused stream's sink takes bytes again (not from its callbacks) */
void tgm_httpc_resume(struct tgm_httpc_xfer *x);

/* tgm_httpc_inflight - requests whose callback has not run yet */
int tgm_httpc_inflight(const struct tgm_httpc *c);

/*
 * tgm_httpc_free - close every connection. In-flight requests complete first with
 * error "client closed" (sent tells whether they had left); requests made from those
 * callbacks fail the same way. Must not be called from inside one of its callbacks.
 */
void tgm_httpc_free(struct tgm_httpc *c);

#endif
