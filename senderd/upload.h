/*
 * upload.h - a message with uploaded files, sent as multipart/form-data (upload.c).
 */
#ifndef SENDERD_UPLOAD_H
#define SENDERD_UPLOAD_H

#include "senderd/lane.h"
#include "common/telegram.h"

/* upload_send - read p's files, then call Telegram with them and params; cb as for
 * tgm_tg_call (a file that cannot be read answers as a transport error) */
void upload_send(struct lane *l, const struct pending *p, const char *params, tgm_tg_cb cb,
		 void *arg);

#endif
