/*
 * gatewayd/main.c - start and stop the HTTP API daemon; the work is in the other
 * files of this folder (server.c: sockets and routes).
 */
#include "common/daemon.h"
#include "gatewayd/gatewayd.h"

static const struct tgm_daemon gatewayd = {
	.name = "gatewayd",
	.summary = "tgm's HTTP API: apps send messages through any bot",
	.start = gw_start,
	.drain = gw_drain,
	.stop = gw_stop,
	.busy = gw_busy,
};

int main(int argc, char **argv)
{
	return tgm_daemon_main(argc, argv, &gatewayd);
}
