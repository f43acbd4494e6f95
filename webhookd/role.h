/*
 * role.h - who may act as a bot's admin in Telegram (role.c): the sender's role from
 * bot_admins, the check every admin command and button makes first, and the audit log
 * of what admins do (docs/admins.md).
 */
#ifndef WEBHOOKD_ROLE_H
#define WEBHOOKD_ROLE_H

struct wh_job;

/* ordered: a role can do what every lower one can */
enum wh_role { WH_ROLE_NONE, WH_ROLE_AGENT, WH_ROLE_ADMIN, WH_ROLE_OWNER };

/*
 * wh_role_need - the update's sender (from.id of the message or callback_query) has
 * at least need for j's bot: then(j). The role is looked up once per job (j->role).
 * Not enough: a callback_query is answered with the toast "not_allowed", a message
 * gets the catalog's "role_refused" in its chat and thread; it is logged and the job is
 * done (wh_job_done), nothing else happens. A database error postpones the update.
 */
void wh_role_need(struct wh_job *j, enum wh_role need, void (*then)(struct wh_job *j));

/* wh_role_name - "owner", "admin", "agent", "none" */
const char *wh_role_name(enum wh_role r);
/* wh_role_parse - the role named s ("owner", "admin", "agent"); anything else NONE */
enum wh_role wh_role_parse(const char *s);

/*
 * The audit log (audit_log, source 'telegram', actor the sender's Telegram id). Two ways:
 *
 * - wh_audit(j, action, target, detail_json): the row is written when the update is
 *   finished (wh_job_done), in the statement that marks it processed, once however
 *   often the update is processed. Use it by default: for actions that are Telegram
 *   calls or several statements, and whenever the action is idempotent (a ban, a
 *   close: processed again, it changes nothing, and the row is still written once).
 *   target and detail_json may be NULL; detail_json is a JSON object's text.
 *
 * - WH_AUDIT_SQL(bot, seq, actor, action, target, detail): an SQL expression (each
 *   argument an SQL expression, e.g. "$1", "'ban'", "$2::text", "NULL") to put in the
 *   select list of the action's own statement, so the row commits with the action or
 *   not at all; seq (the update's, j->seq) makes it once per update and action. Use it
 *   when the action can commit while the update is not finished and must be audited
 *   even then (money moved, admins changed), e.g.
 *   "WITH d AS (DELETE ... RETURNING 1) SELECT count(*), " WH_AUDIT_SQL(...) " FROM d".
 *   (wh_role_sender(j) gives the actor's text.)
 */
void wh_audit(struct wh_job *j, const char *action, const char *target, const char *detail_json);
/* clang-format off */
#define WH_AUDIT_SQL(bot, seq, actor, action, target, detail) \
	"audit_write(NULL, (" bot ")::bigint, 'telegram', (" actor ")::text, " action ", " \
	target ", " detail ", 'tg:' || (" seq ")::bigint || ':' || " action ")"
/* clang-format on */

/* wh_role_sender - the sender's Telegram user id (from.id), 0 when none */
long long wh_role_sender(const struct wh_job *j);

#endif
