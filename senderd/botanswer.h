/*
 * botanswer.h - Telegram's answer to a Bot API endpoint's message, kept (botanswer.c).
 */
#ifndef SENDERD_BOTANSWER_H
#define SENDERD_BOTANSWER_H

#include "senderd/lane.h"
#include "common/telegram.h"

/* botanswer_keep - keep r as p's answer, if p came through the Bot API endpoint */
void botanswer_keep(struct lane *l, const struct pending *p, const struct tgm_tg_result *r);

#endif
