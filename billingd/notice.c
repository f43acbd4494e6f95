/*
 * notice.c - billingd's outbox: the SQL functions record what is to be told as notices
 * in billing_outbox (bd_notice: a name and its arguments, in the transaction of the
 * change it tells of); this loop renders each in C (render.c) and queues the message,
 * deleting the notice in the same statement, then rings senderd. Oldest first, one at
 * a time, and a chat's notice only when no older one of that chat is left, so a chat
 * hears things in the order they happened, even with several billingd. A notice
 * billingd cannot render is dropped with a warning: it never holds up the others.
 * Kicked after every step that may have recorded one, and by the sweep.
 */
#include "billingd/billingd.h"
#include "billingd/render.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 32

/* with the bot's settings (its texts and language) and the user's language_code */
static const char next_sql[] =
	"SELECT o.id, o.bot_id, o.chat_id, o.notice, o.args::text, b.settings::text,"
	" u.language_code FROM billing_outbox o JOIN bots b ON b.id = o.bot_id"
	" LEFT JOIN bot_users u ON u.bot_id = o.bot_id AND u.user_id = o.chat_id"
	" ORDER BY o.id LIMIT 32";

static const char queue_sql[] =
	"WITH d AS (DELETE FROM billing_outbox o WHERE o.id = $1 AND NOT EXISTS"
	"  (SELECT 1 FROM billing_outbox e WHERE e.bot_id = o.bot_id AND e.chat_id = o.chat_id"
	"   AND e.id < o.id) RETURNING bot_id, chat_id)"
	" SELECT d.bot_id, queue_message(d.bot_id, d.chat_id::text, $2, $3::jsonb, 0::smallint,"
	"  '{\"source\": \"billingd\"}'::jsonb) FROM d";

static const char drop_sql[] = "DELETE FROM billing_outbox WHERE id = $1";

/* row - one notice taken from the outbox */
struct row {
	int64_t id, bot, chat;
	char *name, *args, *settings, *lang; /* lang: the user's language_code, or NULL */
};

/* batch - the notices of one look, queued one after the other */
struct batch {
	struct billingd *bd;
	struct row rows[BATCH];
	int n, next;
};

static void look(struct billingd *bd);
static void queue_next(struct batch *b);

/* batch_free - free a batch and its rows */
static void batch_free(struct batch *b)
{
	for (int i = 0; i < b->n; i++) {
		free(b->rows[i].name);
		free(b->rows[i].args);
		free(b->rows[i].settings);
		free(b->rows[i].lang);
	}
	free(b);
}

/* batch_over - the batch is done: look again if it was full or a kick came */
static void batch_over(struct batch *b)
{
	struct billingd *bd = b->bd;
	bool full = b->n == BATCH;

	batch_free(b);
	bd->notice_running = false;
	if ((full || bd->notice_again) && !bd->ctx->stopping)
		bd_notice_kick(bd);
}

/* on_queued - a notice queued (its bot rung) or left for later */
static void on_queued(PGresult *res, const char *err, void *arg)
{
	struct batch *b = arg;
	int64_t bot = 0;

	if (err)
		log_warn("notice %lld: %s (tried again later)", (long long)b->rows[b->next].id,
			 err);
	else if (PQntuples(res) == 1 && tgm_parse_int64(PQgetvalue(res, 0, 0), &bot))
		bd_bus_ring(b->bd, bot);
	b->next++;
	queue_next(b);
}

/* render - the row's notice as a Telegram call (NULL: billingd cannot say it), in the
 * user's language (the admin group, no user, hears the bot's) */
static char *render(const struct row *r, const char **method)
{
	char err[128], lang[TGM_TEXT_LANG];
	yajl_val args = tgm_json_parse(r->args, strlen(r->args), strlen(r->args) + 1,
				       TGM_JSON_MAX_DEPTH, err, sizeof(err));
	yajl_val settings = tgm_json_parse(r->settings, strlen(r->settings),
					   strlen(r->settings) + 1, TGM_JSON_MAX_DEPTH, err,
					   sizeof(err));
	char *params = NULL;

	tgm_text_lang(settings, r->lang, lang);
	if (args)
		params = bd_render(r->name, args, r->chat, settings, lang, method);
	if (args)
		yajl_tree_free(args);
	if (settings)
		yajl_tree_free(settings);
	return params;
}

/* queue_next - render and queue the next notice of the batch */
static void queue_next(struct batch *b)
{
	struct row *r = &b->rows[b->next];
	const char *method = NULL, *p[3];
	char id[24], *params;

	if (b->next == b->n || b->bd->ctx->stopping) {
		batch_over(b);
		return;
	}
	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	p[0] = id;
	params = render(r, &method);
	if (params == NULL) {
		log_warn("bot=%lld notice %lld: no such notice: %s (dropped)", (long long)r->bot,
			 (long long)r->id, r->name);
		tgm_pg_query(b->bd->ctx->db, drop_sql, 1, p, on_queued, b);
		return;
	}
	p[1] = method;
	p[2] = params;
	tgm_pg_query(b->bd->ctx->db, queue_sql, 3, p, on_queued, b);
	free(params);
}

/* on_looked - the oldest notices (or none) */
static void on_looked(PGresult *res, const char *err, void *arg)
{
	struct billingd *bd = arg;
	struct batch *b = tgm_xcalloc(1, sizeof(*b));

	b->bd = bd;
	if (err)
		log_warn("billing notices: %s", err);
	for (int i = 0; !err && i < PQntuples(res) && i < BATCH; i++, b->n++) {
		tgm_parse_int64(PQgetvalue(res, i, 0), &b->rows[i].id);
		tgm_parse_int64(PQgetvalue(res, i, 1), &b->rows[i].bot);
		tgm_parse_int64(PQgetvalue(res, i, 2), &b->rows[i].chat);
		b->rows[i].name = tgm_xstrdup(PQgetvalue(res, i, 3));
		b->rows[i].args = tgm_xstrdup(PQgetvalue(res, i, 4));
		b->rows[i].settings = tgm_xstrdup(PQgetvalue(res, i, 5));
		b->rows[i].lang = PQgetisnull(res, i, 6) ? NULL
							 : tgm_xstrdup(PQgetvalue(res, i, 6));
	}
	queue_next(b);
}

/* look - take the oldest notices */
static void look(struct billingd *bd)
{
	tgm_pg_query(bd->ctx->db, next_sql, 0, NULL, on_looked, bd);
}

void bd_notice_kick(struct billingd *bd)
{
	if (bd->ctx->stopping)
		return;
	if (bd->notice_running) {
		bd->notice_again = true;
		return;
	}
	bd->notice_running = true;
	bd->notice_again = false;
	look(bd);
}
