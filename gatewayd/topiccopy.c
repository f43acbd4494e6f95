/*
 * topiccopy.c - the words of an inbox reply's copy in the user's forum topic: the
 * catalog's inbox_reply_topic (or inbox_file_topic for a file without a caption) marked
 * with the agent's name (inbox_api_agent for a reply made with an API key), in the bot's
 * language and with the bot's own texts first (common/text.c: tgm_text_bot), as
 * webhookd says everything else in that topic.
 */
#include "gatewayd/inbox.h"
#include "common/json.h"
#include "common/text.h"

#include <string.h>

#define SETTINGS_MAX (1 << 20)

void gw_topiccopy(char *out, size_t len, const char *settings, const char *agent, const char *text)
{
	char err[128];
	yajl_val s = settings ? tgm_json_parse(settings, strlen(settings), SETTINGS_MAX, 16, err,
					       sizeof(err))
			      : NULL;
	const char *name = text ? "inbox_reply_topic" : "inbox_file_topic";

	tgm_text_fill(out, len, tgm_text_bot(s, name, NULL),
		      (const char *const[]){
			      "agent", agent ? agent : tgm_text_bot(s, "inbox_api_agent", NULL),
			      "text", text, NULL });
	yajl_tree_free(s);
}
