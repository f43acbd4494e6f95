/*
 * deliver.c - one message to Telegram and what the answer means for it, its chat,
 * its lane and its bot (docs/telegram.md section 4):
 *
 *   ok                 sent, with Telegram's message_id
 *   429                the chat waits retry_after (the bot too when several chats
 *                      meet 429s at once); the message is retried then, or fails as
 *                      flood_wait when the wait is longer than max_retry_after
 *   5xx, no connection retried with exponential backoff and jitter, then failed
 *   unknown outcome    (a timeout after sending) per [senderd] ambiguous
 *   blocked, kicked, chat not found   failed; the chat is marked blocked
 *   migrated group     the chat's queued messages move to the new id and go again
 *   401/404            the token is dead: the bot is disabled, its messages stay queued
 *   other 400          failed with Telegram's description
 */
#include "senderd/botanswer.h"
#include "senderd/lane.h"
#include "senderd/backoff.h"
#include "senderd/record.h"
#include "senderd/upload.h"
#include "common/log.h"
#include "common/buf.h"
#include "common/telegram.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

struct delivery {
	struct lane *l;
	struct pending *p;
};

/* with_paid_broadcast - params plus "allow_paid_broadcast":true (caller frees) */
static char *with_paid_broadcast(const char *params)
{
	const char *rest = params + 1; /* after '{' */

	while (*rest == ' ')
		rest++;
	return tgm_xasprintf("{\"allow_paid_broadcast\":true%s%s", *rest == '}' ? "" : ",", rest);
}

/* describe - Telegram's error as "code: description", the detail stored */
static void describe(const struct tgm_tg_result *r, char *buf, size_t size)
{
	snprintf(buf, size, "%d: %s", r->error_code,
		 r->description ? r->description : "no description");
}

/* fail - the message will not be sent: record it, count it and say why */
static void fail(struct lane *l, const struct pending *p, const char *why)
{
	log_info("bot=%lld msg=%lld failed: %s", (long long)l->bot_id, (long long)p->id, why);
	record_add(l->sd->record, p->id, l->bot_id, TGM_MSG_FAILED, why, 0, 0);
	l->sd->failed++;
}

/* retry_or_fail - another attempt after backoff, unless attempts are used up */
static void retry_or_fail(struct lane *l, struct pending *p, const char *why)
{
	const struct tgm_config *cfg = l->sd->ctx->cfg;
	char detail[400];

	if (p->attempts >= cfg->senderd.max_attempts) {
		snprintf(detail, sizeof(detail), "%s (after %d attempts)", why, p->attempts);
		fail(l, p, detail);
		return;
	}
	int delay = backoff_ms(cfg, p->attempts);

	log_debug("bot=%lld msg=%lld retrying in %d ms: %s", (long long)l->bot_id, (long long)p->id,
		  delay, why);
	record_add(l->sd->record, p->id, l->bot_id, TGM_MSG_RETRYING, why, 0, delay);
	lane_retry_at(l, delay);
	l->sd->retried++;
}

/* on_flood - a 429: the chat (and maybe the bot) waits retry_after, then the message goes again */
static void on_flood(struct lane *l, struct pending *p, const struct tgm_tg_result *r)
{
	int ra = r->retry_after > 0 ? r->retry_after : 1;
	char detail[200];

	l->sd->flood++;
	lane_flood(l, p->chat, ra);
	if (ra > l->sd->ctx->cfg->senderd.max_retry_after) {
		snprintf(detail, sizeof(detail), "flood_wait: Telegram asked to wait %d s", ra);
		fail(l, p, detail);
		return;
	}
	snprintf(detail, sizeof(detail), "429: retry after %d", ra);
	record_add(l->sd->record, p->id, l->bot_id, TGM_MSG_RETRYING, detail, 0, ra * 1000);
	lane_retry_at(l, ra * 1000);
}

/* on_chat_gone - blocked, kicked or no such chat: the chat is marked blocked (and
 * gatewayd's choice told), the message fails */
static void on_chat_gone(struct lane *l, struct pending *p, const char *why)
{
	char bot[24];
	const char *params[3] = { bot, p->chat, why };

	if (p->chat[0] != '@') { /* chats are known by id only */
		snprintf(bot, sizeof(bot), "%lld", (long long)l->bot_id);
		/* before the transition: when it commits, the next claim sees the block */
		record_exec(
			l->sd->record,
			"INSERT INTO chats (bot_id, chat_id, type, blocked_at, blocked_reason)"
			" VALUES ($1, $2::bigint, CASE WHEN $2::bigint < 0 THEN 'group'"
			" ELSE 'private' END, now(), $3) ON CONFLICT (bot_id, chat_id) DO UPDATE"
			" SET blocked_at = now(), blocked_reason = EXCLUDED.blocked_reason",
			3, params);
	}
	sd_chat_gone(l->sd, l->bot_id, p->chat);
	fail(l, p, why);
}

/* on_migrated - a group became a supergroup: its queued messages move to the new chat id */
static void on_migrated(struct lane *l, struct pending *p, int64_t to)
{
	char bot[24], newchat[24], detail[80];
	const char *params[3] = { bot, newchat, p->chat };

	snprintf(bot, sizeof(bot), "%lld", (long long)l->bot_id);
	snprintf(newchat, sizeof(newchat), "%lld", (long long)to);
	record_exec(
		l->sd->record,
		"WITH moved AS (UPDATE messages SET chat = $2::text,"
		" params = jsonb_set(params, '{chat_id}', to_jsonb($2::text::bigint))"
		" WHERE bot_id = $1 AND chat = $3 AND status IN ('queued', 'retrying', 'sending'))"
		" INSERT INTO chats (bot_id, chat_id, type, migrated_to)"
		" VALUES ($1, $3::text::bigint, 'group', $2::text::bigint)"
		" ON CONFLICT (bot_id, chat_id) DO UPDATE SET migrated_to = EXCLUDED.migrated_to",
		3, params);
	snprintf(detail, sizeof(detail), "group migrated to chat %s", newchat);
	record_add(l->sd->record, p->id, l->bot_id, TGM_MSG_QUEUED, detail, 0, 0);
}

/* on_token_dead - a 401/404: the bot is disabled, its messages stay queued */
static void on_token_dead(struct lane *l, struct pending *p, const char *why)
{
	char bot[24], reason[460];
	const char *params[2] = { bot, reason };

	log_error("bot=%lld msg=%lld token refused by Telegram (%s): bot disabled",
		  (long long)l->bot_id, (long long)p->id, why);
	record_add(l->sd->record, p->id, l->bot_id, TGM_MSG_QUEUED, why, 0, 0);
	if (!lane_kill(l))
		return;
	snprintf(bot, sizeof(bot), "%lld", (long long)l->bot_id);
	snprintf(reason, sizeof(reason), "token refused by Telegram: %s", why);
	record_exec(l->sd->record,
		    "UPDATE bots SET enabled = false, disabled_reason = $2,"
		    " updated_at = now() WHERE id = $1",
		    2, params);
	lane_give_back(l);
}

/* judge - what Telegram's answer means for the message (the table in the file comment) */
static void judge(struct lane *l, struct pending *p, const struct tgm_tg_result *r)
{
	char why[400];

	describe(r, why, sizeof(why));
	switch (tgm_tg_classify(r)) {
	case TGM_TG_OK:
		record_add(l->sd->record, p->id, l->bot_id, TGM_MSG_SENT, NULL, r->message_id, 0);
		l->sd->sent++;
		break;
	case TGM_TG_FLOOD:
		on_flood(l, p, r);
		break;
	case TGM_TG_AMBIGUOUS:
		snprintf(why, sizeof(why), "ambiguous: %s", r->description ? r->description : "");
		if (strcmp(l->sd->ctx->cfg->senderd.ambiguous, "fail") == 0) {
			fail(l, p, why);
		} else {
			retry_or_fail(l, p, why);
		}
		break;
	case TGM_TG_RETRY:
		retry_or_fail(l, p, why);
		break;
	case TGM_TG_CHAT_GONE:
		on_chat_gone(l, p, why);
		break;
	case TGM_TG_MIGRATED:
		on_migrated(l, p, r->migrate_to_chat_id);
		break;
	case TGM_TG_TOKEN_DEAD:
		on_token_dead(l, p, why);
		break;
	case TGM_TG_BAD_REQUEST:
		fail(l, p, why);
		break;
	}
}

/* sized - p ended at now: the caps on requests in flight learn from its whole round trip
 * (flight.c); true if the process's cap rose */
static bool sized(struct lane *l, const struct pending *p, int64_t now)
{
	struct flight *f = &l->sd->flight;

	switch (flight_answered(f, p->sent_ms, now, p->sent_behind, l->sd->inflight - 1)) {
	case FLIGHT_LEARNED:
		log_debug("round trip %lld ms, the first", (long long)f->base);
		return false;
	case FLIGHT_PROBING:
		log_debug("round trips grew past %lld ms: a probe", (long long)f->base);
		return false;
	case FLIGHT_PROBED:
		log_debug("round trip %lld ms after a probe: a lane at %d/s keeps %d in flight",
			  (long long)f->base, l->per_second, flight_lane_cap(f, l->per_second));
		return true;
	case FLIGHT_SAME:
		break;
	}
	return false;
}

/*
 * on_answer - a send's answer: the pacing learns, the lane frees the slot, judge
 * decides. The round trip ends when the answer's first bytes came, not when it was
 * read whole: a body held back after the head (the server's Nagle against our delayed
 * ACK, 40 ms) or a busy loop says nothing of when Telegram had the request.
 */
static void on_answer(const struct tgm_tg_result *r, void *arg)
{
	struct delivery *d = arg;
	struct lane *l = d->l;
	int64_t now = tgm_mono_ms(), end = now;
	bool cap_rose = false;

	if (r->first_byte_ms >= d->p->sent_ms && r->first_byte_ms <= now)
		end = r->first_byte_ms;
	if (!r->transport_error) { /* Telegram answered: the round trip teaches the pacing */
		rl_observe(end - d->p->sent_ms);
		cap_rose = sized(l, d->p, now);
	}
	lane_answered(l, cap_rose);
	lane_sent(l, d->p, end);
	botanswer_keep(l, d->p, r);
	judge(l, d->p, r);
	pending_free(d->p);
	free(d);
	lane_go_on(l);
}

void deliver_send(struct lane *l, struct pending *p)
{
	struct delivery *d = tgm_xmalloc(sizeof(*d));
	const struct tgm_config *cfg = l->sd->ctx->cfg;
	char *paid = l->paid_broadcast ? with_paid_broadcast(p->params) : NULL;
	const char *body = paid ? paid : p->params;

	d->l = l;
	d->p = p;
	if (p->files)
		upload_send(l, p, body, on_answer, d);
	else
		tgm_tg_send(l->sd->httpc, cfg->telegram.api_url, l->token, p->method, NULL, body,
			    strlen(body), cfg->telegram.timeout * 1000, on_answer, d);
	free(paid);
}

/*
 * With [senderd] ambiguous = fail, a send starts only after its mark
 * (send_started_at) is committed, so that a crash leaves an exact account of what may
 * have left; marks are grouped like claims. With retry the mark is not needed: every
 * row left in 'sending' goes again.
 */
struct marking {
	struct lane *l;
	struct pending **ps;
	int n;
};

/* on_marked - the 'sending' marks committed: send each, or give them back on an error */
static void on_marked(PGresult *res, const char *err, void *arg)
{
	struct marking *mk = arg;
	struct lane *l = mk->l;

	lane_mark_end(l);
	for (int i = 0; i < mk->n; i++) {
		if (err) { /* not marked: not sent; give it back */
			lane_answered(l, false);
			lane_sent(l, mk->ps[i], tgm_mono_ms());
			record_add(l->sd->record, mk->ps[i]->id, l->bot_id, TGM_MSG_QUEUED,
				   "given back unsent", 0, 0);
			pending_free(mk->ps[i]);
		} else {
			deliver_send(l, mk->ps[i]);
		}
	}
	if (err)
		log_warn("bot=%lld sends not marked, given back: %s", (long long)l->bot_id, err);
	free(mk->ps);
	free(mk);
	deliver_flush_marks(l);
}

void deliver_flush_marks(struct lane *l)
{
	struct marking *mk;
	struct tgm_buf ids;
	char num[24];
	const char *p[1];
	struct pending *list = lane_mark_begin(l);

	if (list == NULL)
		return;
	mk = tgm_xcalloc(1, sizeof(*mk));
	mk->l = l;
	tgm_buf_init(&ids);
	for (struct pending *q = list; q; q = q->next)
		mk->n++;
	mk->ps = tgm_xcalloc((size_t)mk->n, sizeof(*mk->ps));
	for (int i = 0; list; i++) {
		mk->ps[i] = list;
		list = list->next;
		snprintf(num, sizeof(num), "%lld", (long long)mk->ps[i]->id);
		tgm_pgarr_add(&ids, num);
	}
	tgm_pgarr_end(&ids);
	p[0] = ids.p;
	tgm_pg_query(l->pg,
		     "UPDATE messages SET send_started_at = now()"
		     " WHERE id = ANY($1::bigint[])",
		     1, p, on_marked, mk);
	tgm_buf_free(&ids);
}

void deliver_start(struct lane *l, struct pending *p)
{
	if (strcmp(l->sd->ctx->cfg->senderd.ambiguous, "fail") != 0) {
		deliver_send(l, p);
		return;
	}
	lane_mark_later(l, p);
	deliver_flush_marks(l);
}
