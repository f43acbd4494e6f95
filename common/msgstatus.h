/*
 * msgstatus.h - a message's status: one enum and one name table, shared by every
 * daemon that reads or writes messages.status (senderd's transitions, gatewayd's
 * answers and filters). The names are the words stored in the column and shown by the
 * API; the table's CHECK constraint (sql/001_core.sql) allows exactly these.
 *
 *   queued    waiting for its turn (also: given back unsent)
 *   sending   claimed by a senderd; its request may be in flight
 *   retrying  waiting for another attempt (not_before says when)
 *   sent      Telegram accepted it (final)
 *   failed    it will not be sent (final)
 *   expired   its ttl passed before it could be sent (final)
 *   canceled  canceled through the API, or its bot deleted (final)
 */
#ifndef TGM_MSGSTATUS_H
#define TGM_MSGSTATUS_H

#include <stdbool.h>

enum tgm_msg_status {
	TGM_MSG_QUEUED,
	TGM_MSG_SENDING,
	TGM_MSG_RETRYING,
	TGM_MSG_SENT,
	TGM_MSG_FAILED,
	TGM_MSG_EXPIRED,
	TGM_MSG_CANCELED,
	TGM_MSG_NSTATUS, /* how many there are; not a status */
};

/* tgm_msg_status_name - the stored word of s ("sent"); a static string */
const char *tgm_msg_status_name(enum tgm_msg_status s);
/* tgm_msg_status_parse - a stored word to its status; false when it names none */
bool tgm_msg_status_parse(const char *name, enum tgm_msg_status *out);
/* tgm_msg_status_final - the status is an end: sent, failed, expired or canceled */
bool tgm_msg_status_final(enum tgm_msg_status s);

#endif
