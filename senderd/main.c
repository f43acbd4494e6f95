/*
 * senderd/main.c - start and stop the delivery daemon; the work is in the other
 * files of this folder (server.c: start, drain, stop and ZeroMQ).
 */
#include "common/daemon.h"
#include "senderd/senderd.h"

static const struct tgm_daemon senderd = {
	.name = "senderd",
	.summary = "tgm's delivery daemon: per-bot sending lanes to Telegram",
	.start = sd_start,
	.drain = sd_drain,
	.stop = sd_stop,
	.busy = sd_busy,
};

int main(int argc, char **argv)
{
	return tgm_daemon_main(argc, argv, &senderd);
}
