/*
 * server.c - senderd's start, drain and stop, and its ZeroMQ wiring: a SUB socket
 * connected to every doorbell publisher (a doorbell wakes the bot's lane) and a PUB
 * socket connected to every status subscriber (each transition is published). A
 * sweep timer wakes every lane too, so a lost doorbell costs latency, not messages.
 *
 * Drain: stop starting sends, give waiting messages back, let requests in flight
 * finish and their outcomes commit, release the leases, exit.
 */
#include "senderd/senderd.h"
#include "senderd/lane.h"
#include "senderd/record.h"
#include "common/doorbell.h"
#include "common/dbconn.h"
#include "common/httpc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define DRAIN_POLL_US 20000

/* on_doorbell - a doorbell (common/doorbell.h): wake that bot's lane, rereading its settings
 * if they changed */
static void on_doorbell(const char *topic, const char *json, size_t len, void *arg)
{
	struct senderd *sd = arg;
	struct tgm_doorbell d;
	struct lane *l;

	if (!tgm_doorbell_parse(topic, json, len, &d) || (l = lane_find(sd, d.bot_id)) == NULL)
		return;
	if (d.changed)
		start_reload(l); /* the bot's settings changed */
	lane_wake(l);
}

/* on_sweep - the sweep timer: wake every lane, so a lost doorbell costs latency only */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	lane_wake_all(arg);
}

/* status_object - the status stream's generator (sd->status_gen: one for every message
 * it carries, not a generator and its 2 KiB buffer made and freed for each), emptied,
 * with an object opened */
static yajl_gen status_object(struct senderd *sd)
{
	yajl_gen g = sd->status_gen;

	yajl_gen_reset(g, NULL);
	yajl_gen_clear(g);
	yajl_gen_map_open(g);
	return g;
}

/* send_object - the object status_object opened, closed, on the status stream as topic */
static void send_object(struct senderd *sd, const char *topic, yajl_gen g)
{
	size_t len;
	const char *text;

	yajl_gen_map_close(g);
	text = tgm_jgen_text(g, &len);
	tgm_bus_send(sd->status, topic, text, len);
}

/*
 * sd_publish - a committed transition on the status stream: topic "msg.<status>", body
 * {"id","bot_id","status","detail"}. Its consumer is gatewayd (on_status in server.c:
 * wakes /v1/events, answers waiting /bot<token>/ senders); billingd subscribes but
 * only logs it, having no use for it yet (docs/delivery.md, "Status events").
 */
static void sd_publish(struct senderd *sd, const struct record_change *c)
{
	yajl_gen g = status_object(sd);
	char topic[32];

	tgm_jgen_kint(g, "id", c->msg_id);
	tgm_jgen_kint(g, "bot_id", c->bot_id);
	tgm_jgen_kstr(g, "status", tgm_msg_status_name(c->status));
	tgm_jgen_kstr(g, "detail", c->detail);
	snprintf(topic, sizeof(topic), "msg.%s", tgm_msg_status_name(c->status));
	send_object(sd, topic, g);
}

/* sd_chat_gone - bot_id can no longer reach chat (blocked, kicked, no such chat), on the
 * status stream as "chat.gone" {"bot_id","chat"}: gatewayd's choice forgets the chat's
 * bots, so that its next message is not chosen for this bot again from memory */
void sd_chat_gone(struct senderd *sd, int64_t bot_id, const char *chat)
{
	yajl_gen g = status_object(sd);

	tgm_jgen_kint(g, "bot_id", bot_id);
	tgm_jgen_kstr(g, "chat", chat);
	send_object(sd, "chat.gone", g);
}

/* on_commit - record_commit_fn: a group of transitions committed. Each is published;
 * its lane hears of it (a chat's next message, passed over by the last claim, may be
 * claimed now that its predecessor left 'sending'); the callback lane is woken when the
 * group queued callbacks. */
static void on_commit(const struct record_change *c, int n, bool callbacks, void *arg)
{
	struct senderd *sd = arg;
	int64_t last_bot = 0;
	struct lane *l;

	for (int i = 0; i < n; i++) {
		sd_publish(sd, &c[i]);
		if (c[i].bot_id != last_bot && (l = lane_find(sd, c[i].bot_id)))
			lane_recorded(l);
		last_bot = c[i].bot_id;
	}
	if (callbacks)
		callback_wake(sd);
}

/* open_buses - connect the doorbell SUB and the status PUB */
static int open_buses(struct senderd *sd, char *err, size_t errlen)
{
	struct tgm_ctx *ctx = sd->ctx;

	sd->doorbells = tgm_bus_open(ctx->base, tgm_bus_context(), ZMQ_SUB,
				     ctx->cfg->senderd.doorbells, false, err, errlen);
	if (sd->doorbells == NULL)
		return -1;
	tgm_bus_subscribe(sd->doorbells, TGM_DOORBELL_PREFIX);
	tgm_bus_on_message(sd->doorbells, on_doorbell, sd);
	sd->status = tgm_bus_open(ctx->base, tgm_bus_context(), ZMQ_PUB, ctx->cfg->senderd.statuses,
				  false, err, errlen);
	sd->status_gen = tgm_jgen_new();
	return sd->status ? 0 : -1;
}

int sd_start(struct tgm_ctx *ctx, char *err, size_t errlen)
{
	struct senderd *sd = tgm_xcalloc(1, sizeof(*sd));
	const struct tgm_config *cfg = ctx->cfg;
	struct timeval tv = { cfg->senderd.sweep_interval, 0 };
	char host[64] = "";

	ctx->app = sd;
	sd->ctx = ctx;
	gethostname(host, sizeof(host) - 1);
	snprintf(sd->owner, sizeof(sd->owner), "%s:%d:%s:%lld", host, (int)getpid(), ctx->instance,
		 (long long)tgm_now_ms());
	if (open_buses(sd, err, errlen) != 0)
		return -1;
	/* all lanes share the Telegram host: a cap on requests in flight for the process keeps
	 * memory flat however many bots there are. It is no pace: each lane holds what its
	 * limits need at the round trip seen (flight.c) */
	flight_init(&sd->flight, cfg->senderd.max_inflight, cfg->senderd.max_connections);
	sd->httpc = tgm_httpc_new(ctx->base, cfg->senderd.max_connections);
	sd->claim_pg = tgm_dbconn_async(ctx->base, cfg, "senderd-callback", TGM_DBCONN_POOLED);
	sd->nlane_pgs = cfg->senderd.claim_connections;
	sd->lane_pgs = tgm_xcalloc((size_t)sd->nlane_pgs, sizeof(*sd->lane_pgs));
	for (int i = 0; i < sd->nlane_pgs; i++)
		sd->lane_pgs[i] = tgm_dbconn_async(ctx->base, cfg, "senderd-claim",
						   TGM_DBCONN_POOLED);
	claim_start(sd);
	sd->lease_pg = tgm_dbconn_async(ctx->base, cfg, "senderd-lease", TGM_DBCONN_POOLED);
	sd->record = record_new(ctx->base, cfg, on_commit, sd);
	sd->ev_sweep = event_new(ctx->base, -1, EV_PERSIST, on_sweep, sd);
	event_add(sd->ev_sweep, &tv);
	callback_start(sd);
	if (sd_metrics_start(sd, err, errlen) != 0)
		return -1;
	lease_start(sd);
	return 0;
}

/* lanes_busy - requests in flight over all lanes */
static int lanes_busy(struct senderd *sd)
{
	int n = 0;

	for (int b = 0; b < SD_LANE_BUCKETS; b++)
		for (struct lane *l = sd->lanes[b]; l; l = l->hnext)
			n += lane_inflight(l);
	return n;
}

/* lane_pgs_pending - queries queued or in flight on the lanes' connections */
static int lane_pgs_pending(const struct senderd *sd)
{
	int n = 0;

	for (int i = 0; i < sd->nlane_pgs; i++)
		n += tgm_pg_pending(sd->lane_pgs[i]);
	return n;
}

int sd_busy(struct tgm_ctx *ctx)
{
	struct senderd *sd = ctx->app;

	return lanes_busy(sd) + record_pending(sd->record) + tgm_pg_pending(sd->claim_pg) +
	       tgm_pg_pending(sd->lease_pg) + lane_pgs_pending(sd) + sd->callbacks_inflight;
}

/* on_drain_poll - once nothing is in flight, release the leases and finish */
static void on_drain_poll(evutil_socket_t fd, short what, void *arg)
{
	struct senderd *sd = arg;
	struct timeval tv = { 0, DRAIN_POLL_US };

	if ((lanes_busy(sd) || record_pending(sd->record) || sd->callbacks_inflight) &&
	    tgm_mono_ms() < sd->ctx->drain_deadline_ms) {
		evtimer_add(sd->ev_drain, &tv);
		return;
	}
	lease_release_all(sd);
	tgm_daemon_drain_when_idle(sd->ctx, 2);
}

void sd_drain(struct tgm_ctx *ctx)
{
	struct senderd *sd = ctx->app;

	sd->stopping = true;
	for (int b = 0; b < SD_LANE_BUCKETS; b++)
		for (struct lane *l = sd->lanes[b]; l; l = l->hnext)
			lane_give_back(l);
	ctx->drain_deadline_ms = tgm_mono_ms() + ctx->cfg->senderd.drain_timeout * 1000LL;
	sd->ev_drain = evtimer_new(ctx->base, on_drain_poll, sd);
	on_drain_poll(-1, 0, sd);
}

void sd_stop(struct tgm_ctx *ctx)
{
	struct senderd *sd = ctx->app;

	if (sd == NULL)
		return;
	if (sd->ev_lease)
		event_free(sd->ev_lease);
	if (sd->ev_sweep)
		event_free(sd->ev_sweep);
	if (sd->ev_drain)
		event_free(sd->ev_drain);
	tgm_httpc_free(sd->httpc); /* answers still in flight complete as errors now */
	sd_metrics_stop(sd);
	callback_stop(sd);
	lane_free_all(sd);
	record_free(sd->record);
	tgm_pg_free(sd->claim_pg);
	for (int i = 0; i < sd->nlane_pgs; i++)
		tgm_pg_free(sd->lane_pgs[i]);
	free(sd->lane_pgs);
	claim_stop(sd);
	tgm_pg_free(sd->lease_pg);
	tgm_bus_close(sd->doorbells);
	tgm_bus_close(sd->status);
	if (sd->status_gen)
		yajl_gen_free(sd->status_gen);
	free(sd);
	ctx->app = NULL;
}
