/*
 * lane.c - one bot's lane: the claimed messages waiting in priority order, and the
 * scheduler that sends the next ones as far as the limits allow: requests in flight
 * per bot, the bot's rate (per second), each chat's rate (per second, and per minute
 * for groups and channels), one request per chat at a time (so a chat's messages go
 * in order), and any 429 suspension. When nothing may go now, a timer wakes the lane
 * when the first limit opens.
 *
 * Lanes are made when senderd takes a bot's lease and dropped when it loses it; a
 * dropped lane gives its waiting messages back, lets its requests in flight finish
 * and is freed after the last one.
 *
 * This file alone writes a lane's state (its life, its sub-states, its queue and
 * limits; lane.h documents them): claim.c and deliver.c report what happened through
 * the lane_* functions and the lane decides what follows.
 */
#include "senderd/lane.h"
#include "senderd/record.h"
#include "common/log.h"
#include "common/util.h"

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define NO_WAKE INT64_MAX
#define LANE_RETRY_MAX 4096
#define FLOOD_WINDOW_MS 1000 /* 429s of several chats within this: the bot's limit */
/* rows a lane's first claim after a lull asks for: a batch falling due at once starts
 * going out after a small claim, while the next claims grow (x4) to the buffer's size */
#define CLAIM_FIRST 16
/* claims in a row that walk on chat by chat finding nothing, for one wake (walked_on) */
#define WALKS_EMPTY_MAX 8

/* bucket_of - the bucket of sd->lanes holding the bot's lane (a Fibonacci hash) */
static unsigned bucket_of(int64_t bot_id)
{
	return (unsigned)((uint64_t)bot_id * 0x9E3779B97F4A7C15ULL >> 54) % SD_LANE_BUCKETS;
}

struct lane *lane_find(struct senderd *sd, int64_t bot_id)
{
	struct lane *l = sd->lanes[bucket_of(bot_id)];

	while (l && l->bot_id != bot_id)
		l = l->hnext;
	return l;
}

/* on_timer - the lane's timer (a retry or a pace falling due): pump it */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	lane_pump(arg);
}

void lane_ensure(struct senderd *sd, int64_t bot_id, unsigned gen)
{
	struct lane *l = lane_find(sd, bot_id);
	unsigned b = bucket_of(bot_id);

	if (l) {
		if (!(l->sub & LANE_DROPPING))
			l->seen_gen = gen;
		return;
	}
	l = tgm_xcalloc(1, sizeof(*l));
	l->sd = sd;
	l->pgi = (int)((uint64_t)bot_id % (uint64_t)sd->nlane_pgs);
	l->pg = sd->lane_pgs[l->pgi];
	l->bot_id = bot_id;
	l->seen_gen = gen;
	l->claim_step = CLAIM_FIRST;
	l->qtail = &l->queue;
	l->state = LANE_LOADING;
	l->ev_timer = evtimer_new(sd->ctx->base, on_timer, l);
	l->hnext = sd->lanes[b];
	sd->lanes[b] = l;
	sd->nlanes++;
	log_info("bot=%lld lane started", (long long)bot_id);
	start_load(l);
}

/* unlink_lane - take l out of the waiting list and its hash bucket */
static void unlink_lane(struct lane *l)
{
	for (struct lane **w = &l->sd->waiting; *w; w = &(*w)->wnext)
		if (*w == l) {
			*w = l->wnext;
			break;
		}
	struct lane **pp = &l->sd->lanes[bucket_of(l->bot_id)];

	while (*pp != l)
		pp = &(*pp)->hnext;
	*pp = l->hnext;
	l->sd->nlanes--;
}

/* chat_slot_free - free one chat's limits */
static void chat_slot_free(struct chat_slot *c)
{
	rl_free(&c->gap);
	rl_free(&c->minute);
	free(c->chat);
	free(c);
}

/* chats_free - free every chat slot of l */
static void chats_free(struct lane *l)
{
	for (unsigned i = 0; i < l->nbuckets; i++)
		while (l->chats[i]) {
			struct chat_slot *c = l->chats[i];

			l->chats[i] = c->next;
			chat_slot_free(c);
		}
	free(l->chats);
}

/* pending_list_free - free a list of pending messages */
static void pending_list_free(struct pending *p)
{
	for (struct pending *next; p; p = next) {
		next = p->next;
		pending_free(p);
	}
}

/* lane_free - free l and everything it owns (its caller unlinks it first if need be) */
static void lane_free(struct lane *l)
{
	pending_list_free(l->queue);
	pending_list_free(l->to_mark);
	chats_free(l);
	free(l->retry_due);
	free(l->settings);
	free(l->walked);
	rl_free(&l->bot_rate);
	event_free(l->ev_timer);
	if (l->token)
		memset(l->token, 0, strlen(l->token));
	free(l->token);
	free(l);
}

void lane_maybe_free(struct lane *l)
{
	if ((l->sub & (LANE_DROPPING | LANE_QUERYING)) != LANE_DROPPING || l->inflight > 0 ||
	    l->state == LANE_LOADING)
		return;
	unlink_lane(l);
	log_info("bot=%lld lane stopped", (long long)l->bot_id);
	if (!l->sd->stopping)
		lease_release(l->sd, l->bot_id); /* shed, or its bot was disabled: free now */
	lane_free(l);
}

/* lane_drop - the lease is gone: give back what waits, free once nothing is in flight */
static void lane_drop(struct lane *l)
{
	l->sub |= LANE_DROPPING;
	lane_give_back(l);
	lane_maybe_free(l);
}

void lane_sweep(struct senderd *sd, unsigned gen)
{
	for (int b = 0; b < SD_LANE_BUCKETS; b++)
		for (struct lane *l = sd->lanes[b], *next; l; l = next) {
			next = l->hnext;
			if (l->seen_gen != gen && !(l->sub & LANE_DROPPING))
				lane_drop(l);
		}
}

void lane_free_all(struct senderd *sd)
{
	for (int b = 0; b < SD_LANE_BUCKETS; b++)
		while (sd->lanes[b]) {
			struct lane *l = sd->lanes[b];

			sd->lanes[b] = l->hnext;
			lane_free(l);
		}
	sd->nlanes = 0;
}

void pending_free(struct pending *p)
{
	free(p->chat);
	free(p->method);
	free(p->params);
	free(p);
}

/* before - p goes before q: (priority, id) order */
static bool before(const struct pending *p, const struct pending *q)
{
	return p->priority < q->priority || (p->priority == q->priority && p->id < q->id);
}

/* cmp_pending - qsort's order of claimed messages: before() */
static int cmp_pending(const void *a, const void *b)
{
	const struct pending *p = *(struct pending *const *)a, *q = *(struct pending *const *)b;

	return before(p, q) ? -1 : before(q, p) ? 1 : 0;
}

/* queue_last - the last one queued (the queue is not empty) */
static struct pending *queue_last(const struct lane *l)
{
	return (struct pending *)((char *)l->qtail - offsetof(struct pending, next));
}

/* queue_unlink - *pp leaves the queue */
static struct pending *queue_unlink(struct lane *l, struct pending **pp)
{
	struct pending *p = *pp;

	if (p->next == NULL)
		l->qtail = pp;
	*pp = p->next;
	l->nqueued--;
	return p;
}

void lane_enqueue_all(struct lane *l, struct pending **ps, int n)
{
	struct pending **pp = &l->queue;

	if (n == 0)
		return;
	qsort(ps, (size_t)n, sizeof(*ps), cmp_pending);
	if (l->queue && !before(ps[0], queue_last(l)))
		pp = l->qtail;        /* all after the last one: the usual case, no walk */
	for (int i = 0; i < n; i++) { /* one pass: each goes after the last one merged */
		while (*pp && !before(ps[i], *pp))
			pp = &(*pp)->next;
		ps[i]->next = *pp;
		*pp = ps[i];
		pp = &ps[i]->next;
		l->nqueued++;
	}
	if (*pp == NULL)
		l->qtail = pp;
}

/* chat_hash - FNV-1a of a chat id */
static unsigned chat_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* chats_grow - twice the buckets, the chats spread over them again (a walk of 8 chats
 * a lookup, all strcmp, was a tenth of senderd's own CPU with 2,000 chats a bot) */
static void chats_grow(struct lane *l)
{
	unsigned n = l->nbuckets ? l->nbuckets * 2 : LANE_CHAT_BUCKETS;
	struct chat_slot **t = tgm_xcalloc(n, sizeof(*t));

	for (unsigned i = 0; i < l->nbuckets; i++)
		while (l->chats[i]) {
			struct chat_slot *c = l->chats[i];

			l->chats[i] = c->next;
			c->next = t[c->hash & (n - 1)];
			t[c->hash & (n - 1)] = c;
		}
	free(l->chats);
	l->chats = t;
	l->nbuckets = n;
}

struct chat_slot *lane_chat(struct lane *l, const char *chat)
{
	unsigned h = chat_hash(chat);
	struct chat_slot *c = l->nbuckets ? l->chats[h & (l->nbuckets - 1)] : NULL;

	while (c && (c->hash != h || strcmp(c->chat, chat) != 0))
		c = c->next;
	if (c)
		return c;
	if (l->nchats >= 2 * l->nbuckets)
		chats_grow(l);
	c = tgm_xcalloc(1, sizeof(*c));
	c->hash = h;
	c->chat = tgm_xstrdup(chat);
	c->group = chat[0] == '-' || chat[0] == '@';
	rl_init(&c->gap, 1, 1000 / (l->chat_per_second > 0 ? l->chat_per_second : 1));
	if (c->group)
		rl_init(&c->minute, l->group_per_minute, 60000);
	c->next = l->chats[h & (l->nbuckets - 1)];
	l->chats[h & (l->nbuckets - 1)] = c;
	l->nchats++;
	return c;
}

/* chat_next_ok - when this chat may get its next message */
static int64_t chat_next_ok(struct chat_slot *c, int64_t now)
{
	int64_t t = rl_next_ok(&c->gap, now);

	if (c->suspended_until > t)
		t = c->suspended_until;
	if (c->group && rl_next_ok(&c->minute, now) > t)
		t = rl_next_ok(&c->minute, now);
	return t;
}

/* start_send - *pp leaves the queue now: take its rate-limit slots, start its request */
static void start_send(struct lane *l, struct pending **pp, struct chat_slot *c, int64_t now)
{
	struct pending *p = queue_unlink(l, pp);

	p->slot = c;
	p->sent_ms = now;
	p->sent_behind = l->sd->inflight;
	p->bot_slot = rl_take(&l->bot_rate, now);
	p->gap_slot = rl_take(&c->gap, now);
	p->minute_slot = c->group ? rl_take(&c->minute, now) : -1;
	c->busy = true;
	l->inflight++;
	l->sd->inflight++;
	deliver_start(l, p);
}

/* wait_turn - queue the lane until a request of any lane ends */
static void wait_turn(struct lane *l)
{
	struct lane **pp = &l->sd->waiting;

	if (l->waiting)
		return;
	while (*pp)
		pp = &(*pp)->wnext;
	l->wnext = NULL;
	*pp = l;
	l->waiting = true;
}

void lane_answered(struct lane *l, bool cap_rose)
{
	struct senderd *sd = l->sd;
	struct lane *w = sd->waiting, *next;

	l->inflight--;
	sd->inflight--;
	if (w == NULL)
		return;
	sd->waiting = cap_rose ? NULL : w->wnext; /* all of them go, or the first */
	if (!cap_rose)
		w->wnext = NULL;
	for (; w; w = next) {
		next = w->wnext; /* a pump may put w back on the list */
		w->waiting = false;
		if (w != l)
			lane_pump(w);
	}
}

/* send_due - start every send the limits allow now; returns when to look again */
static int64_t send_due(struct lane *l, int64_t now)
{
	int lane_cap = flight_lane_cap(&l->sd->flight, l->per_second);
	int64_t wake = NO_WAKE, t;
	struct pending **pp = &l->queue;

	if (l->suspended_until > now)
		return l->suspended_until;
	while (*pp && l->inflight < lane_cap) {
		struct chat_slot *c;

		if (l->sd->inflight >= flight_process_cap(&l->sd->flight)) {
			wait_turn(l);
			return wake;
		}
		if ((*pp)->expires_at && now >= (*pp)->expires_at) { /* held past its ttl */
			struct pending *p = queue_unlink(l, pp);

			record_add(l->sd->record, p->id, l->bot_id, TGM_MSG_EXPIRED,
				   "ttl passed before it could be sent", 0, 0);
			pending_free(p);
			continue;
		}
		if ((t = rl_next_ok(&l->bot_rate, now)) > now)
			return t < wake ? t : wake;
		c = lane_chat(l, (*pp)->chat);
		if (c->busy) {
			pp = &(*pp)->next;
			continue;
		}
		if ((t = chat_next_ok(c, now)) > now) {
			wake = t < wake ? t : wake;
			pp = &(*pp)->next;
			continue;
		}
		start_send(l, pp, c, now);
	}
	return wake;
}

/* lane_buffer_cap - claimed messages a lane keeps: about a second of sends, so that
 * a high-priority message waits little behind a bulk backlog and a crash leaves
 * little in 'sending' */
int lane_buffer_cap(const struct lane *l)
{
	int batch = l->sd->ctx->cfg->senderd.claim_batch;

	return l->per_second < batch ? (l->per_second > 0 ? l->per_second : 1) : batch;
}

/* orphans_when_idle - after a lost claim: once the lane holds and owes nothing, every
 * row of its bot still in 'sending' is one the lost claim took: send them back */
static void orphans_when_idle(struct lane *l)
{
	if ((l->sub & LANE_QUERYING) || l->nqueued > 0 || l->inflight > 0 || l->to_mark ||
	    record_pending_of(l->sd->record, l->bot_id) > 0)
		return;
	l->sub |= LANE_CLAIMING;
	start_orphans(l);
}

/* wants_claim - a claim now: something may have fallen due and there is room, or the
 * backlog goes on and half the buffer is gone (claims of half a buffer or more: a
 * lane that claimed whenever a few were sent would cost the database a claim and a
 * record group for every few messages) */
static bool wants_claim(const struct lane *l)
{
	int cap = lane_buffer_cap(l);

	if (l->sub & LANE_WAKE)
		return l->nqueued < cap;
	return (l->sub & LANE_MORE) && l->nqueued <= cap / 2;
}

void lane_pump(struct lane *l)
{
	struct senderd *sd = l->sd;
	int64_t now = tgm_mono_ms(), wake;

	if (l->state != LANE_READY || (l->sub & LANE_DROPPING) || sd->stopping)
		return;
	if (now >= sd->lease_until_ms) {
		l->sub |= LANE_WAKE; /* the lease renewal wakes us */
		return;
	}
	wake = send_due(l, now);
	if (l->next_due && l->next_due <= now) {
		l->next_due = 0;
		l->sub |= LANE_WAKE;
	} else if (l->next_due && l->next_due < wake) {
		wake = l->next_due;
	}
	for (int i = 0; i < l->nretry;) {
		if (l->retry_due[i] <= now) { /* due: claim it; the slot takes the last one */
			l->retry_due[i] = l->retry_due[--l->nretry];
			l->sub |= LANE_WAKE;
			continue;
		}
		if (l->retry_due[i] < wake)
			wake = l->retry_due[i];
		i++;
	}
	if (l->sub & LANE_ORPHANS)
		orphans_when_idle(l);
	else if (!(l->sub & LANE_CLAIMING) && wants_claim(l))
		claim_more(l);
	if (wake != NO_WAKE) {
		struct timeval tv = { (time_t)((wake - now) / 1000),
				      (suseconds_t)((wake - now) % 1000) * 1000 };
		evtimer_add(l->ev_timer, &tv);
	}
}

void lane_sent(struct lane *l, struct pending *p, int64_t end)
{
	struct chat_slot *c = p->slot; /* busy since: not forgotten (chats_gc) */

	c->busy = false;
	rl_done(&l->bot_rate, p->bot_slot, p->sent_ms, end);
	rl_done(&c->gap, p->gap_slot, p->sent_ms, end);
	if (c->group)
		rl_done(&c->minute, p->minute_slot, p->sent_ms, end);
}

void lane_settings(struct lane *l, const char *settings)
{
	if (l->settings && strcmp(l->settings, settings) == 0)
		return;
	if (l->settings) /* changed since the lane read them: read the limits again */
		start_reload(l);
	free(l->settings);
	l->settings = tgm_xstrdup(settings);
}

void lane_retry_at(struct lane *l, int delay_ms)
{
	int64_t at = tgm_mono_ms() + delay_ms + 5; /* just after the row's not_before */

	if (l->nretry == LANE_RETRY_MAX)
		return; /* so many: the sweep finds the rest */
	if (l->nretry == l->retry_cap) {
		l->retry_cap = l->retry_cap ? l->retry_cap * 2 : 16;
		l->retry_due = tgm_xrealloc(l->retry_due, (size_t)l->retry_cap * sizeof(int64_t));
	}
	l->retry_due[l->nretry++] = at;
}

void lane_wake(struct lane *l)
{
	l->sub |= LANE_WAKE;
	lane_pump(l);
}

/* chats_gc - forget chats whose limits no longer hold anything back (memory stays
 * proportional to the chats in use, not to every chat ever sent to) */
static void chats_gc(struct lane *l, int64_t now)
{
	for (unsigned i = 0; i < l->nbuckets; i++)
		for (struct chat_slot **pp = &l->chats[i]; *pp;) {
			struct chat_slot *c = *pp;

			if (c->busy || c->suspended_until > now || !rl_idle(&c->gap, now) ||
			    (c->group && !rl_idle(&c->minute, now))) {
				pp = &c->next;
				continue;
			}
			*pp = c->next;
			chat_slot_free(c);
			l->nchats--;
		}
}

void lane_pump_all(struct senderd *sd)
{
	for (int b = 0; b < SD_LANE_BUCKETS; b++)
		for (struct lane *l = sd->lanes[b]; l; l = l->hnext)
			lane_pump(l);
}

void lane_recorded(struct lane *l)
{
	/* a claim in flight may have read the queue before the commit: it claims again */
	if (l->sub & (LANE_HELD | LANE_CLAIMING))
		lane_wake(l);
}

void lane_wake_all(struct senderd *sd)
{
	int64_t now = tgm_mono_ms();

	for (int b = 0; b < SD_LANE_BUCKETS; b++)
		for (struct lane *l = sd->lanes[b]; l; l = l->hnext) {
			chats_gc(l, now);
			lane_wake(l);
		}
}

int lane_inflight(const struct lane *l)
{
	return l->inflight + !!(l->sub & LANE_CLAIMING) + (l->state == LANE_LOADING) +
	       !!(l->sub & LANE_MARKING);
}

void lane_go_on(struct lane *l)
{
	if ((l->sub & LANE_DROPPING) || l->sd->stopping) {
		lane_give_back(l);
		lane_maybe_free(l);
		return;
	}
	lane_pump(l);
}

void lane_give_back(struct lane *l)
{
	while (l->queue) {
		struct pending *p = queue_unlink(l, &l->queue);

		record_add(l->sd->record, p->id, l->bot_id, TGM_MSG_QUEUED, "given back unsent", 0,
			   0);
		pending_free(p);
	}
}

void lane_due_in(struct lane *l, int64_t ms)
{
	l->next_due = tgm_mono_ms() + (ms > 0 ? ms : 0) + 1;
}

void lane_flood(struct lane *l, const char *chat, int retry_after)
{
	int64_t now = tgm_mono_ms(), until = now + retry_after * 1000LL;

	lane_chat(l, chat)->suspended_until = until;
	if (now > l->flood_window_until) {
		l->flood_window_until = now + FLOOD_WINDOW_MS;
		l->flood_chats = 0;
	}
	if (++l->flood_chats >= 2 && until > l->suspended_until) /* the bot's limit, not a chat's */
		l->suspended_until = until;
}

void lane_set_limits(struct lane *l, const struct lane_limits *lim)
{
	l->per_second = lim->per_second;
	l->chat_per_second = lim->chat_per_second;
	l->group_per_minute = lim->group_per_minute;
	l->paid_broadcast = lim->paid_broadcast;
	if (l->bot_rate.limit != l->per_second) { /* keep the window's history if unchanged */
		rl_init(&l->bot_rate, l->per_second, 1000);
		rl_smooth(&l->bot_rate);
	}
}

void lane_loaded(struct lane *l, char *token, const struct lane_limits *lim)
{
	l->token = token;
	lane_set_limits(l, lim);
}

void lane_ready(struct lane *l)
{
	if (l->sub & LANE_DROPPING) {
		l->state = LANE_DEAD;
		lane_maybe_free(l);
		return;
	}
	l->state = LANE_READY;
	l->sub |= LANE_WAKE;
	lane_pump(l);
}

void lane_fail(struct lane *l)
{
	l->state = LANE_DEAD;
	l->sub |= LANE_DROPPING;
	l->seen_gen = 0;
	lane_maybe_free(l);
}

bool lane_kill(struct lane *l)
{
	if (l->state == LANE_DEAD)
		return false;
	l->state = LANE_DEAD;
	return true;
}

int lane_claim_begin(struct lane *l)
{
	int want = lane_buffer_cap(l) - l->nqueued;

	if (want <= 0)
		return 0;
	if (want > l->claim_step)
		want = l->claim_step;
	if (l->sub & LANE_WAKE)
		l->walks_empty = 0;
	l->sub = (l->sub | LANE_CLAIMING) & ~(unsigned)LANE_WAKE;
	l->claim_asked = want;
	return want;
}

/* walked_on - the claim's walk chat by chat stopped at chat: the next goes on from there,
 * at once when this one found nothing but went on (the chats it has not reached yet
 * may have heads; no commit would wake the lane for them), up to WALKS_EMPTY_MAX times
 * in a row for a wake */
static void walked_on(struct lane *l, int n, const char *chat)
{
	bool moved = l->walked == NULL || strcmp(l->walked, chat) != 0;

	free(l->walked);
	l->walked = tgm_xstrdup(chat);
	if (n != 0 || !moved) {
		l->walks_empty = 0;
	} else if (l->walks_empty < WALKS_EMPTY_MAX) {
		l->walks_empty++;
		l->sub |= LANE_MORE;
	}
}

void lane_claim_end(struct lane *l, int n, bool held, const char *walked)
{
	l->sub &= ~(unsigned)(LANE_CLAIMING | LANE_MORE | LANE_HELD);
	if (held)
		l->sub |= LANE_HELD;
	if (n > 0 && n == l->claim_asked) {
		l->sub |= LANE_MORE;
		l->claim_step = l->claim_step < INT_MAX / 4 ? l->claim_step * 4 : INT_MAX;
	} else {
		l->claim_step = CLAIM_FIRST;
	}
	if (walked)
		walked_on(l, n, walked);
}

void lane_claim_lost(struct lane *l)
{
	l->sub &= ~(unsigned)(LANE_CLAIMING | LANE_MORE | LANE_HELD);
	l->sub |= LANE_ORPHANS;
}

void lane_orphans_end(struct lane *l, bool ok)
{
	l->sub &= ~(unsigned)LANE_CLAIMING;
	if (ok)
		l->sub = (l->sub & ~(unsigned)LANE_ORPHANS) | LANE_WAKE;
}

bool lane_reload_begin(struct lane *l)
{
	if (l->state != LANE_READY || (l->sub & LANE_RELOADING))
		return false;
	l->sub |= LANE_RELOADING;
	return true;
}

void lane_reload_end(struct lane *l)
{
	l->sub &= ~(unsigned)LANE_RELOADING;
}

void lane_mark_later(struct lane *l, struct pending *p)
{
	p->next = l->to_mark;
	l->to_mark = p;
}

struct pending *lane_mark_begin(struct lane *l)
{
	struct pending *list = l->to_mark;

	if ((l->sub & LANE_MARKING) || list == NULL)
		return NULL;
	l->to_mark = NULL;
	l->sub |= LANE_MARKING;
	return list;
}

void lane_mark_end(struct lane *l)
{
	l->sub &= ~(unsigned)LANE_MARKING;
}
