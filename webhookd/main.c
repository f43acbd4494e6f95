/*
 * webhookd/main.c - start and stop the intake daemon; the work is in the other
 * files of this folder (webhookd.h tells the flow).
 */
#include "common/daemon.h"
#include "webhookd/webhookd.h"

static const struct tgm_daemon webhookd = {
	.name = "webhookd",
	.summary = "tgm's intake daemon: Telegram and Stripe webhooks",
	.start = wh_start,
	.drain = wh_drain,
	.stop = wh_stop,
	.busy = wh_busy_hook,
};

int main(int argc, char **argv)
{
	return tgm_daemon_main(argc, argv, &webhookd);
}
