/*
 * httperr.h - libevent's own error pages become problem documents.
 *
 * evhttp answers what it refuses before any route sees it (a broken request line or
 * header, a bad Content-Length, a body over its size limit) with a small HTML page that
 * no callback can change. tgm_httperr_bufferevent, set with evhttp_set_bevcb, watches
 * each connection's output and replaces such a page, status line and headers included,
 * with an application/problem+json answer of the same status and "Connection: close".
 */
#ifndef TGM_HTTPERR_H
#define TGM_HTTPERR_H

#include <event2/bufferevent.h>
#include <event2/event.h>

/* tgm_httperr_bufferevent - a connection's bufferevent, as evhttp would make it, whose
 * output is watched for libevent's error pages (evhttp_set_bevcb's signature) */
struct bufferevent *tgm_httperr_bufferevent(struct event_base *base, void *arg);

#endif
