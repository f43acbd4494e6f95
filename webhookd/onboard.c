/*
 * onboard.c - a new user's first steps (docs/onboarding.md): on their first /start, when
 * the bot's setting tutorial is on, an offer of a three-step tour with buttons; each press
 * edits that one message in place (tut:1, tut:2, tut:3, then tut:done or tut:skip), and
 * the last grants tutorial_bonus credits once (ledger key tutorial:<user>, so a second
 * press of Finish grants nothing). A user coming back on /start after welcome_back_days
 * away, or after blocking the bot, is welcomed back with their balance.
 */
#include "webhookd/job.h"
#include "common/botset.h"
#include "common/json.h"
#include "common/text.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

static const char bonus_sql[] =
	"SELECT applied, replayed FROM ledger_apply($1::bigint, $2::bigint, 'tutorial:' ||"
	" $2::text, 'gift', $3::bigint, p_reason => 'tutorial finished')";

/* the user came back: after blocking the bot, or after $3 days away (0: never); the mark
 * of the block is spent by this /start */
static const char returning_sql[] =
	"WITH o AS (SELECT came_back, prev_seen_at FROM bot_users WHERE bot_id = $1"
	"  AND user_id = $2 FOR UPDATE)"
	" UPDATE bot_users u SET came_back = false FROM o WHERE u.bot_id = $1 AND u.user_id = $2"
	" RETURNING $3::int > 0 AND (o.came_back OR o.prev_seen_at < now()"
	"  - make_interval(days => $3::int)), u.credits";

void wh_onboard_offer(struct wh_job *j)
{
	int64_t bonus = tgm_botset_int(j->bot->settings, "tutorial_bonus");
	const char *labels[] = { wh_say(j, "button_tutorial"), wh_say(j, "button_tutorial_skip") };
	const char *const data[] = { "tut:1", "tut:skip" };
	char text[1024], n[128];

	if (!tgm_botset_bool(j->bot->settings, "tutorial"))
		return;
	tgm_text_count_bot(n, sizeof(n), j->bot->settings, "credits", bonus, j->lang);
	tgm_text_fill(text, sizeof(text),
		      wh_say(j, bonus > 0 ? "tutorial_offer" : "tutorial_offer_plain"),
		      (const char *const[]){ "bonus", n, NULL });
	wh_reply_text(j, j->chat_id, 0, text, labels, data, 2);
}

/* edit - the tutorial's message (the button's) becomes text, with one button or none */
static void edit(struct wh_job *j, const char *text, const char *label, const char *data)
{
	const char *path[] = { "message", "chat", "id", NULL };
	yajl_val chat = yajl_tree_get(j->body, path, yajl_t_number);
	yajl_val msg = tgm_json_get(j->body, "message");
	int64_t mid = 0;

	tgm_json_get_int(msg, "message_id", &mid);
	if (chat == NULL || mid == 0)
		return;
	wh_reply_edit(j, YAJL_GET_INTEGER(chat), mid, text, label ? &label : NULL,
		      label ? &data : NULL, label ? 1 : 0);
}

/* on_bonus - bonus_sql answered: the last step says the credits granted (none on a
 * second press: the ledger replayed it) */
static void on_bonus(struct wh_job *j, PGresult *res, const char *err)
{
	int64_t applied = 0;
	char text[1024], n[128];

	if (err) {
		wh_job_postpone(j, WH_RETRY_SECONDS, err);
		return;
	}
	if (PQgetvalue(res, 0, 1)[0] != 't')
		tgm_parse_int64(PQgetvalue(res, 0, 0), &applied);
	tgm_text_count_bot(n, sizeof(n), j->bot->settings, "credits", applied, j->lang);
	tgm_text_fill(text, sizeof(text),
		      wh_say(j, applied > 0 ? "tutorial_done" : "tutorial_done_plain"),
		      (const char *const[]){ "credits", n, NULL });
	edit(j, text, NULL, NULL);
	wh_job_done(j, applied > 0 ? "tutorial done: bonus granted" : "tutorial done");
}

/* finish - the Finish button: the bonus through the ledger, once */
static void finish(struct wh_job *j)
{
	int64_t bonus = tgm_botset_int(j->bot->settings, "tutorial_bonus");
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };

	if (bonus <= 0 || j->user_id == 0) {
		edit(j, wh_say(j, "tutorial_done_plain"), NULL, NULL);
		wh_job_done(j, "tutorial done");
		return;
	}
	tgm_i64(p[0], 24, j->bot->id);
	tgm_i64(p[1], 24, j->user_id);
	tgm_i64(p[2], 24, bonus);
	wh_job_query(j, bonus_sql, 3, params, on_bonus);
}

bool wh_onboard_button(struct wh_job *j, const char *data)
{
	static const char *const steps[] = { "tutorial_1", "tutorial_2", "tutorial_3" };
	const char *type = tgm_json_get_str(tgm_json_get(tgm_json_get(j->body, "message"), "chat"),
					    "type");
	char next[16];

	if (strncmp(data, "tut:", 4) != 0 || type == NULL || strcmp(type, "private") != 0)
		return false; /* a tutorial is a user's, in their private chat */
	wh_answer_callback(j, NULL);
	data += 4;
	if (strcmp(data, "done") == 0) {
		finish(j);
	} else if (strcmp(data, "skip") == 0) {
		edit(j, wh_say(j, "tutorial_skipped"), NULL, NULL);
		wh_job_done(j, "tutorial skipped");
	} else if (data[0] >= '1' && data[0] <= '3' && data[1] == '\0') {
		snprintf(next, sizeof(next), data[0] == '3' ? "tut:done" : "tut:%c", data[0] + 1);
		edit(j, wh_say(j, steps[data[0] - '1']),
		     wh_say(j, data[0] == '3' ? "button_finish" : "button_next"), next);
		wh_job_done(j, "tutorial step");
	} else {
		wh_job_done(j, "ignored: an unknown tutorial button");
	}
	return true;
}

/* on_returning - returning_sql answered: welcome back with the balance, or go on */
static void on_returning(struct wh_job *j, PGresult *res, const char *err)
{
	const char *path[] = { "from", "first_name", NULL };
	yajl_val first = yajl_tree_get(j->msg, path, yajl_t_string);
	char text[1024], credits[128];
	int64_t n = 0;
	void (*then)(struct wh_job *) = j->onboard_next;

	if (err || PQntuples(res) != 1 || PQgetvalue(res, 0, 0)[0] != 't') {
		then(j);
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 1), &n);
	tgm_text_count_bot(credits, sizeof(credits), j->bot->settings, "credits", n, j->lang);
	tgm_text_fill(text, sizeof(text), wh_say(j, "welcome_return"),
		      (const char *const[]){ "first_name", first ? YAJL_GET_STRING(first) : "",
					     "credits", credits, NULL });
	wh_reply_text(j, j->chat_id, 0, text, NULL, NULL, 0);
	wh_job_done(j, "command /start: welcome back");
}

void wh_onboard_returning(struct wh_job *j, void (*otherwise)(struct wh_job *j))
{
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };

	if (j->new_user || j->user_id == 0) {
		otherwise(j);
		return;
	}
	j->onboard_next = otherwise;
	tgm_i64(p[0], 24, j->bot->id);
	tgm_i64(p[1], 24, j->user_id);
	tgm_i64(p[2], 24, tgm_botset_int(j->bot->settings, "welcome_back_days"));
	wh_job_query(j, returning_sql, 3, params, on_returning);
}
