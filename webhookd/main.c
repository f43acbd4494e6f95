/*
 * webhookd/main.c - start and stop the intake daemon; the work is in the other
 * files of this folder (server.c: sockets and routes).
 */
#include "common/daemon.h"
#include "webhookd/webhookd.h"

static const struct tgm_daemon webhookd = {
	.name = "webhookd",
	.summary = "tgm's intake daemon: Telegram and Stripe webhooks",
	.start = wh_start,
	.drain = wh_drain,
	.stop = wh_stop,
};

int main(int argc, char **argv)
{
	return tgm_daemon_main(argc, argv, &webhookd);
}
