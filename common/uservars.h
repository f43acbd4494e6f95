/*
 * uservars.h - a text written for many people made for one: the variables of quick
 * replies (gatewayd/inboxreply.c), auto-replies (webhookd/autoreply.c) and forum topic
 * names (webhookd/topic.c), filled in one place (see uservars.c).
 */
#ifndef TGM_USERVARS_H
#define TGM_USERVARS_H

#include <stdint.h>

/* tgm_uservars - whom a text is for; any string may be NULL (filled as "") */
struct tgm_uservars {
	const char *first_name, *last_name, *username;
	const char *bot_name; /* the bot's name (bots.name, from getMe) */
	int64_t user_id;      /* 0: {user_id} is left as it is */
};

/*
 * tgm_uservars_fill - tmpl with {first_name}, {last_name}, {username}, {name} (first
 * and last name, with a space between when both are there), {bot_name} and {user_id}
 * filled in from u; other braces are left as they are, and what a value holds is never
 * read for variables. Caller frees.
 */
char *tgm_uservars_fill(const char *tmpl, const struct tgm_uservars *u);

#endif
