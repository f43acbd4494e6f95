/*
 * validate.h - turn one JSON message request into a struct gw_msg, checking every
 * field the way Telegram would (so bad messages fail here, not in the queue).
 */
#ifndef GW_VALIDATE_H
#define GW_VALIDATE_H

#include "gatewayd/accept.h"
#include "common/json.h"

/* gw_problem - why a request was refused: an RFC 9457 problem */
struct gw_problem {
	int status;
	const char *type;
	char detail[256];
	char field[64];
};

/*
 * gw_validate_message - build a message from item for tenant. path_bot (0: none) is a
 * bot id from the URL. Returns the message (caller frees with gw_msg_free) or NULL
 * with the problem filled in. bot_id 0 in the result means "the gateway chooses".
 */
struct gw_msg *gw_validate_message(yajl_val item, int64_t tenant_id, int64_t path_bot,
				   struct gw_problem *pb);
/* gw_msg_free - free a message and the strings it owns; NULL is fine */
void gw_msg_free(struct gw_msg *m);

/* gw_valid_time - an RFC 3339 time like 2026-11-23T12:00:00(.123)(Z|+01:00), for real */
bool gw_valid_time(const char *s);
/* gw_parse_time - the same, and the time as Unix seconds */
bool gw_parse_time(const char *s, int64_t *epoch);

#endif
