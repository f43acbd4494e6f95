/*
 * bus.c - billingd's sockets: it binds the work queue (PULL) webhookd pushes to, its
 * doorbell publisher (bd_bus_ring: senderd, a bot has messages queued) and its status
 * subscriber; it listens on the database channel tgm_billing (auto-recharges made by
 * the ledger trigger). Every wake-up kicks work.c's loopss.
 */
#include "billingd/billingd.h"
#include "common/doorbell.h"
#include "common/log.h"

#include <zmq.h>

/* on_work - webhookd pushed work (a stored update or event): look */
static void on_work(const char *topic, const char *json, size_t len, void *arg)
{
	struct billingd *bd = arg;

	log_debug("billing work topic=%s %.*s", topic, (int)len, json);
	bd_work_kick(bd);
}

/* on_status - a message transition from senderd: no consumer yet (the dashboard
 * issue gives the msg.* stream one) */
static void on_status(const char *topic, const char *json, size_t len, void *arg)
{
	(void)json;
	(void)len;
	(void)arg;
	log_debug("status event topic=%s", topic);
}

/* on_notify - tgm_billing: the ledger trigger made a recharge */
static void on_notify(const char *payload, void *arg)
{
	(void)payload;
	bd_work_kick(arg);
}

void bd_bus_ring(struct billingd *bd, int64_t bot_id)
{
	tgm_doorbell_ring(bd->doorbell, bot_id, false);
}

int bd_bus_open(struct billingd *bd, char *err, size_t errlen)
{
	const struct tgm_config *cfg = bd->ctx->cfg;
	struct event_base *base = bd->ctx->base;
	void *z = tgm_bus_context();

	bd->work = tgm_bus_open(base, z, ZMQ_PULL, cfg->billingd.work, true, err, errlen);
	if (bd->work == NULL)
		return -1;
	tgm_bus_on_message(bd->work, on_work, bd);
	bd->doorbell = tgm_bus_open(base, z, ZMQ_PUB, cfg->billingd.doorbell, true, err, errlen);
	if (bd->doorbell == NULL)
		return -1;
	bd->status = tgm_bus_open(base, z, ZMQ_SUB, cfg->billingd.status, true, err, errlen);
	if (bd->status == NULL)
		return -1;
	tgm_bus_subscribe(bd->status, "msg.");
	tgm_bus_on_message(bd->status, on_status, bd);
	tgm_pg_listen(bd->ctx->db, "tgm_billing", on_notify, bd);
	return 0;
}

void bd_bus_close(struct billingd *bd)
{
	tgm_bus_close(bd->work);
	tgm_bus_close(bd->doorbell);
	tgm_bus_close(bd->status);
}
