/*
 * billingd/main.c - start and stop the billing daemon; the work is in the other
 * files of this folder (billingd.h tells the flow).
 */
#include "common/daemon.h"
#include "billingd/billingd.h"

static const struct tgm_daemon billingd = {
	.name = "billingd",
	.summary = "tgm's billing daemon: credits, passes and Stripe",
	.start = bd_start,
	.drain = bd_drain,
	.stop = bd_stop,
	.busy = bd_busy,
};

int main(int argc, char **argv)
{
	return tgm_daemon_main(argc, argv, &billingd);
}
