/*
 * choice.h - the bot for a message that names none, chosen in gatewayd's memory (see
 * choice.c), and the SQL both this choice and the database's (accept.c) read the load
 * with, so that the two rank bots alike.
 */
#ifndef GW_CHOICE_H
#define GW_CHOICE_H

#include <stdbool.h>
#include <stdint.h>

struct evbuffer;
struct gatewayd;
struct gw_choice;

/* GW_CHOICE_LIMIT_SQL - SQL: the bot row b's sends a second (its per_second setting) */
#define GW_CHOICE_LIMIT_SQL(b) "coalesce((" b ".settings->>'per_second')::float8, 30)"
/* GW_CHOICE_DEPTH_WHERE - SQL: the counters of bot_status_counts q that make a queue */
#define GW_CHOICE_DEPTH_WHERE "q.status IN ('queued', 'retrying', 'sending')"
/* GW_CHOICE_RECENT_WHERE - SQL: the counters of bot_done_seconds s of the last 10 s
 * sends (their sum / 10 is the rate used) */
#define GW_CHOICE_RECENT_WHERE \
	"s.status = 'sent' AND s.t >= date_trunc('second', now()) - interval '10 s'"

/* GW_CHOICE_REACH_SQL - SQL: the bots (bot_id, of any tenant) that may reach the chat
 * i.chat: they know it (unblocked, by id or @username), or were given messages for it
 * and it has not blocked them since (a scalar subquery on chats_blocked_text of
 * sql/048: as a bare NOT EXISTS it may become an anti-join reading every blocked chat) */
#define GW_CHOICE_REACH_SQL \
	"(SELECT h.bot_id FROM chats h" \
	"  WHERE h.chat_id = CASE WHEN i.chat ~ '^-?[0-9]{1,18}$' THEN i.chat::bigint END" \
	"  AND h.blocked_at IS NULL" \
	"  UNION ALL SELECT h.bot_id FROM chats h WHERE i.chat LIKE '@%'" \
	"  AND '@' || lower(h.username) = i.chat AND h.username IS NOT NULL" \
	"  AND h.blocked_at IS NULL" \
	"  UNION ALL SELECT r.bot_id FROM bot_chats r WHERE r.chat = i.chat" \
	"  AND (SELECT NOT EXISTS (SELECT 1 FROM chats k WHERE k.bot_id = r.bot_id" \
	"   AND k.blocked_at IS NOT NULL AND k.chat_id::text = r.chat)))"

struct gw_choice *gw_choice_new(struct gatewayd *gw);
void gw_choice_free(struct gw_choice *c);
/* gw_choice_pick - the bot for a message of tenant to chat, counted in its queue at
 * once (gw_choice_count -1 if the message is not accepted after all); 0: memory cannot
 * tell, the database chooses */
int64_t gw_choice_pick(struct gw_choice *c, int64_t tenant, const char *chat);
/* gw_choice_unknown - memory could choose for (tenant, chat) once it knows the chat's
 * bots (gw_choice_learn), and does not know them now */
bool gw_choice_unknown(struct gw_choice *c, int64_t tenant, const char *chat);
/* gw_choice_count - n messages more (fewer, n < 0) in bot's queue, counted here */
void gw_choice_count(struct gw_choice *c, int64_t bot, int n);
/* gw_choice_learn - the bots that may reach (tenant, chat), as the database's choice
 * found them: an SQL array text ("{1,2}"; "{}" or NULL: none) */
void gw_choice_learn(struct gw_choice *c, int64_t tenant, const char *chat, const char *bots);
/* gw_choice_reaches - a message of tenant to chat was accepted for bot: it may reach
 * the chat from now on */
void gw_choice_reaches(struct gw_choice *c, int64_t tenant, const char *chat, int64_t bot);
/* gw_choice_forget - bot can no longer reach chat (senderd heard so): its tenant's
 * memory of the chat's bots is dropped, so that the next message to the chat is chosen
 * by the database, which passes over the bot */
void gw_choice_forget(struct gw_choice *c, int64_t bot, const char *chat);
/* gw_choice_stale - bots or queues changed here (a bot made, changed or deleted, a
 * message canceled): the database chooses until a refresh sent after now is read */
void gw_choice_stale(struct gw_choice *c);
/* gw_choice_metrics - its counters in the Prometheus text format */
void gw_choice_metrics(const struct gw_choice *c, struct evbuffer *out);

#endif
