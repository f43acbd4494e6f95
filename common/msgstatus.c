/*
 * msgstatus.c - the message statuses' names (see msgstatus.h).
 */
#include "common/msgstatus.h"
#include "common/log.h"

#include <string.h>

/* names - indexed by enum tgm_msg_status, in its order */
static const char *const names[TGM_MSG_NSTATUS] = {
	[TGM_MSG_QUEUED] = "queued",     [TGM_MSG_SENDING] = "sending",
	[TGM_MSG_RETRYING] = "retrying", [TGM_MSG_SENT] = "sent",
	[TGM_MSG_FAILED] = "failed",     [TGM_MSG_EXPIRED] = "expired",
	[TGM_MSG_CANCELED] = "canceled",
};

const char *tgm_msg_status_name(enum tgm_msg_status s)
{
	if ((unsigned)s >= TGM_MSG_NSTATUS)
		TGM_BUG("message status %d out of range", (int)s);
	return names[s];
}

bool tgm_msg_status_parse(const char *name, enum tgm_msg_status *out)
{
	for (int i = 0; i < TGM_MSG_NSTATUS; i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (enum tgm_msg_status)i;
			return true;
		}
	return false;
}

bool tgm_msg_status_final(enum tgm_msg_status s)
{
	return s == TGM_MSG_SENT || s == TGM_MSG_FAILED || s == TGM_MSG_EXPIRED ||
	       s == TGM_MSG_CANCELED;
}
