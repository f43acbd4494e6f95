/*
 * bridge.c - conversations: each user of a bot with an admin group gets a forum topic
 * there; what the user writes is copied into it and what admins write in it is copied
 * back. (Being written: for now updates are only recorded.)
 */
#include "webhookd/job.h"
#include "common/botset.h"

void wh_bridge_user(struct wh_job *j)
{
	if (tgm_botset_int(j->bot->settings, "admin_chat_id") == 0)
		wh_job_done(j, "recorded: the bot has no admin group");
	else
		wh_job_done(j, "recorded: conversations are not written yet");
}

void wh_bridge_admin(struct wh_job *j)
{
	wh_job_done(j, "recorded: conversations are not written yet");
}
