/*
 * metrics.c - GET /metrics in the Prometheus text format: requests by route and
 * status class, the accept latency histogram, messages accepted, doorbells dropped,
 * and the queue depth per bot (one query).
 */
#include "gatewayd/gatewayd.h"
#include "gatewayd/accept.h"
#include "gatewayd/choice.h"

#include <event2/buffer.h>
#include <event2/http.h>

static const char depth_sql[] =
	"SELECT bot_id, status, sum(n) FROM bot_status_counts"
	" WHERE status IN ('queued', 'retrying', 'sending') GROUP BY bot_id, status"
	" HAVING sum(n) <> 0 ORDER BY bot_id, status";

/* histogram - the accept-latency histogram, in the Prometheus text format */
static void histogram(struct gatewayd *gw, struct evbuffer *out)
{
	uint64_t cum = 0;

	evbuffer_add_printf(out, "# HELP tgm_gatewayd_accept_seconds request to committed 202\n"
				 "# TYPE tgm_gatewayd_accept_seconds histogram\n");
	for (int i = 0; i < 15; i++) {
		cum += gw->accept_hist[i];
		evbuffer_add_printf(out, "tgm_gatewayd_accept_seconds_bucket{le=\"%g\"} %llu\n",
				    (250.0 * (1 << i)) / 1e6, (unsigned long long)cum);
	}
	cum += gw->accept_hist[15];
	evbuffer_add_printf(out,
			    "tgm_gatewayd_accept_seconds_bucket{le=\"+Inf\"} %llu\n"
			    "tgm_gatewayd_accept_seconds_sum %g\n"
			    "tgm_gatewayd_accept_seconds_count %llu\n",
			    (unsigned long long)cum, gw->accept_sum_us / 1e6,
			    (unsigned long long)cum);
}

/* on_depth - the queue depths read: answer /metrics with every counter */
static void on_depth(struct gw_req *r, PGresult *res, const char *err)
{
	struct gatewayd *gw = r->gw;
	struct evbuffer *out = evbuffer_new();

	tgm_http_metrics(gw->http, out, "tgm_gatewayd");
	histogram(gw, out);
	gw_choice_metrics(gw->choice, out);
	evbuffer_add_printf(out,
			    "# HELP tgm_gatewayd_messages_accepted_total messages accepted"
			    " (202)\n"
			    "# TYPE tgm_gatewayd_messages_accepted_total counter\n"
			    "tgm_gatewayd_messages_accepted_total %lu\n"
			    "# HELP tgm_gatewayd_doorbells_dropped_total doorbells not sent"
			    " (the bus was full)\n"
			    "# TYPE tgm_gatewayd_doorbells_dropped_total counter\n"
			    "tgm_gatewayd_doorbells_dropped_total %lu\n"
			    "# HELP tgm_gatewayd_accept_waiting accepts waiting for a database"
			    " connection\n"
			    "# TYPE tgm_gatewayd_accept_waiting gauge\n"
			    "tgm_gatewayd_accept_waiting %d\n"
			    "# HELP tgm_gatewayd_botapi_polls_waiting Bot API getUpdates long"
			    " polls waiting for updates\n"
			    "# TYPE tgm_gatewayd_botapi_polls_waiting gauge\n"
			    "tgm_gatewayd_botapi_polls_waiting %d\n",
			    gw->accepted, tgm_bus_dropped(gw->doorbell), gw_accept_busy(gw->accept),
			    gw_botupdates_parked(gw->botupdates));
	evbuffer_add_printf(out, "# HELP tgm_queue_depth messages waiting or in flight, by bot"
				 " and status\n# TYPE tgm_queue_depth gauge\n");
	for (int i = 0; !err && i < PQntuples(res); i++)
		evbuffer_add_printf(out, "tgm_queue_depth{bot=\"%s\",status=\"%s\"} %s\n",
				    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
				    PQgetvalue(res, i, 2));
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type",
			  "text/plain; version=0.0.4");
	tgm_http_reply(r->req, 200, NULL, (const char *)evbuffer_pullup(out, -1),
		       evbuffer_get_length(out));
	evbuffer_free(out);
	gw_req_free(r);
}

void gw_metrics(struct gw_req *r)
{
	gw_query_sql(r, depth_sql, 0, NULL, on_depth);
}
