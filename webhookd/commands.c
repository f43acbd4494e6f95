/*
 * commands.c - a user's bot commands in a private chat and their button presses:
 * /start (welcome, free credits once), /help, /balance (credits with a progress bar,
 * time pass, low-balance alert); purchases (/buy, /buy<N>, /billing, /history,
 * /autorecharge, the "buy" button) go to billingd. The bot's settings say which
 * commands are on; anything else gets a short help.
 */
#include "webhookd/job.h"
#include "common/botset.h"
#include "common/json.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/text.h"
#include "common/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 32
#define TEXT_MAX 4096
#define BAR_CELLS 10

static const char free_sql[] =
	"SELECT applied, replayed FROM ledger_apply($1::bigint, $2::bigint, 'free:' || $2::text,"
	" 'free', $3::bigint, p_reason => 'free credits on /start')";

static const char balance_sql[] =
	"SELECT u.credits, coalesce(to_char(u.pass_until AT TIME ZONE 'UTC',"
	"  'YYYY-MM-DD HH24:MI') || ' UTC', ''), coalesce(u.pass_until > now(), false),"
	" greatest(u.credits, coalesce((SELECT l.balance FROM ledger l WHERE l.bot_id = u.bot_id"
	"  AND l.user_id = u.user_id AND l.credits > 0 ORDER BY l.id DESC LIMIT 1), 0))"
	" FROM bot_users u WHERE u.bot_id = $1 AND u.user_id = $2";

/* the commands and the catalog text /help says of them; "buy" also covers /buy<N> */
static const struct {
	const char *name, *help;
	bool billing;
} commands[] = {
	{ "start", "help_start", false },
	{ "help", "help_help", false },
	{ "balance", "help_balance", false },
	{ "buy", "help_buy", true },
	{ "billing", "help_billing", true },
	{ "history", "help_history", true },
	{ "autorecharge", "help_autorecharge", true },
};

bool wh_is_command(const struct wh_job *j)
{
	return j->text != NULL && j->text[0] == '/';
}

/* command_on - the bot's settings list name (buy<N> counts as buy) */
static bool command_on(const struct wh_job *j, const char *name)
{
	const char *list = tgm_botset_str(j->bot->settings, "commands"), *w;
	size_t n, len = strlen(name);

	if (strncmp(name, "buy", 3) == 0 && name[3] && isdigit((unsigned char)name[3]))
		len = 3;
	while ((w = tgm_words_next(&list, &n)) != NULL)
		if (n == len && strncmp(w, name, len) == 0)
			return true;
	return false;
}

/* help_text - the bot's own help text, or "Commands:" and the list of those that are on;
 * after first (a catalog name, or NULL) */
static void help_text(const struct wh_job *j, char *out, size_t outlen, const char *first)
{
	const char *help = wh_say(j, "help");
	size_t used = (size_t)snprintf(out, outlen, "%s%s%s", first ? wh_say(j, first) : "",
				       first ? " " : "", help);

	if (!tgm_text_is_catalog("help", help))
		return;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && used < outlen; i++)
		if (command_on(j, commands[i].name))
			used += (size_t)snprintf(out + used, outlen - used, "\n/%s - %s",
						 commands[i].name, wh_say(j, commands[i].help));
}

/* reply_help - answer with the help (after the catalog text first, or NULL) and finish */
static void reply_help(struct wh_job *j, const char *first, const char *outcome)
{
	char text[TEXT_MAX];

	help_text(j, text, sizeof(text), first);
	wh_reply_text(j, j->chat_id, 0, text, NULL, NULL, 0);
	wh_job_done(j, outcome);
}

/* reply_start - the bot's welcome, the free credits granted (when any) and a "buy" button
 * if /buy is on */
static void reply_start(struct wh_job *j, int64_t granted)
{
	const char *label[] = { wh_say(j, "button_products") }, *const data[] = { "buy" };
	const char *welcome = wh_say(j, "welcome");
	char text[TEXT_MAX + 64], gift[256], n[128];

	tgm_text_count_bot(n, sizeof(n), j->bot->settings, "free_credits", granted, j->lang);
	tgm_text_fill(gift, sizeof(gift), wh_say(j, "free_credits"),
		      (const char *const[]){ "credits", n, NULL });
	snprintf(text, sizeof(text), "%s%s%s", welcome, granted > 0 ? "\n\n" : "",
		 granted > 0 ? gift : "");
	wh_reply_text(j, j->chat_id, 0, text, label, data, command_on(j, "buy") ? 1 : 0);
	if (j->new_user || granted > 0) /* the first /start */
		wh_onboard_offer(j);
	wh_job_done(j, "command /start");
}

/* on_free - the free credits' ledger_apply: welcome with those it granted (none on a replay) */
static void on_free(struct wh_job *j, PGresult *res, const char *err)
{
	int64_t applied = 0;

	if (err) {
		log_warn("bot=%lld user=%lld: free credits: %s", (long long)j->bot->id,
			 (long long)j->user_id, err);
		wh_job_done(j, "failed: free credits");
		return;
	}
	if (PQgetvalue(res, 0, 1)[0] != 't') /* not a replay: this update granted them */
		tgm_parse_int64(PQgetvalue(res, 0, 0), &applied);
	reply_start(j, applied);
}

/* start_new - /start of a user not coming back: grant the bot's free credits (once per
 * user: the ledger's key), welcome */
static void start_new(struct wh_job *j)
{
	int64_t free_credits = tgm_botset_int(j->bot->settings, "free_credits");
	char bot[24], user[24], amount[24];
	const char *params[3] = { bot, user, amount };

	if (free_credits <= 0 || j->user_id == 0) {
		reply_start(j, 0);
		return;
	}
	snprintf(bot, sizeof(bot), "%lld", (long long)j->bot->id);
	snprintf(user, sizeof(user), "%lld", (long long)j->user_id);
	snprintf(amount, sizeof(amount), "%lld", (long long)free_credits);
	wh_job_query(j, free_sql, 3, params, on_free);
}

/* cmd_start - /start: welcome back a user who came back (onboard.c), else start_new */
static void cmd_start(struct wh_job *j)
{
	wh_onboard_returning(j, start_new);
}

/* progress - "Credits: 75/100 [████████░░] 75%" */
static void progress(const struct wh_job *j, char *out, size_t outlen, int64_t credits,
		     int64_t full)
{
	size_t used = 0;
	int cells = full > 0 ? (int)((credits * BAR_CELLS + full / 2) / full) : 0;
	char c[24], f[24], pct[24], bar[BAR_CELLS * 4 + 1];

	snprintf(c, sizeof(c), "%lld", (long long)credits);
	snprintf(f, sizeof(f), "%lld", (long long)full);
	snprintf(pct, sizeof(pct), "%lld", full > 0 ? (long long)(credits * 100 / full) : 0LL);
	for (int i = 0; i < BAR_CELLS; i++)
		used += (size_t)snprintf(bar + used, sizeof(bar) - used, "%s",
					 i < cells ? "█" : "░");
	tgm_text_fill(
		out, outlen, wh_say(j, full > 0 ? "balance_bar" : "balance"),
		(const char *const[]){ "credits", c, "full", f, "bar", bar, "percent", pct, NULL });
}

/* on_balance - the user's credits, pass and last top-up: the bar, the pass's end and a
 * low-balance hint */
static void on_balance(struct wh_job *j, PGresult *res, const char *err)
{
	int64_t credits = 0, full = 0, low = tgm_botset_int(j->bot->settings, "low_balance");
	char text[512], bar[200], until[128];
	bool pass;

	if (err || PQntuples(res) != 1) {
		wh_job_done(j, "failed: balance");
		return;
	}
	tgm_parse_int64(PQgetvalue(res, 0, 0), &credits);
	tgm_parse_int64(PQgetvalue(res, 0, 3), &full);
	pass = PQgetvalue(res, 0, 2)[0] == 't';
	progress(j, bar, sizeof(bar), credits, full);
	tgm_text_fill(until, sizeof(until), wh_say(j, "balance_pass"),
		      (const char *const[]){ "until", PQgetvalue(res, 0, 1), NULL });
	snprintf(text, sizeof(text), "%s%s%s", bar, pass ? "\n" : "", pass ? until : "");
	if (!pass && low > 0 && credits < low)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "\n%s",
			 wh_say(j, "balance_low_hint"));
	wh_reply_text(j, j->chat_id, 0, text, NULL, NULL, 0);
	wh_job_done(j, "command /balance");
}

/* cmd_balance - /balance: read the user's credits and pass */
static void cmd_balance(struct wh_job *j)
{
	char bot[24], user[24];
	const char *params[2] = { bot, user };

	snprintf(bot, sizeof(bot), "%lld", (long long)j->bot->id);
	snprintf(user, sizeof(user), "%lld", (long long)j->user_id);
	wh_job_query(j, balance_sql, 2, params, on_balance);
}

/* is_billing - the command name is billingd's (/buy, /buy<N> and the others so marked) */
static bool is_billing(const char *name)
{
	if (strncmp(name, "buy", 3) == 0 && (name[3] == '\0' || isdigit((unsigned char)name[3])))
		return true;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].billing && strcmp(name, commands[i].name) == 0)
			return true;
	return false;
}

void wh_command(struct wh_job *j)
{
	char name[NAME_MAX_LEN], outcome[64];

	if (!tgm_tg_command(j->text, j->bot->username, name, sizeof(name), NULL)) {
		wh_job_done(j, "ignored: a command for another bot");
		return;
	}
	if (strcmp(name, "admins") == 0) { /* the bot's owner's, whatever the settings */
		wh_admins_command(j);
		return;
	}
	if (wh_menu_is_command(j)) {
		wh_menu_command(j); /* /admin and its shortcuts (menu.c) */
		return;
	}
	if (!command_on(j, name)) {
		reply_help(j, "unknown_command", "command unknown");
		return;
	}
	if (strcmp(name, "start") == 0 && strstr(j->text, " paid_"))
		(j->billing = true, wh_job_done(j, "to billingd: /start paid_"));
	else if (strcmp(name, "start") == 0)
		cmd_start(j);
	else if (strcmp(name, "help") == 0)
		reply_help(j, NULL, "command /help");
	else if (strcmp(name, "balance") == 0)
		cmd_balance(j);
	else if (is_billing(name)) {
		j->billing = true;
		snprintf(outcome, sizeof(outcome), "to billingd: /%s", name);
		wh_job_done(j, outcome);
	} else
		reply_help(j, "unknown_command", "command unknown");
}

/* on_answered - answerCallbackQuery: only logged when it failed */
static void on_answered(const struct tgm_tg_result *r, void *arg)
{
	struct webhookd *wh = arg;

	wh->inflight--;
	if (!r->ok)
		log_info("answerCallbackQuery: %s", r->description ? r->description : "failed");
}

/* wh_answer_callback - stop the button's spinner (a direct call: it cannot wait) */
void wh_answer_callback(struct wh_job *j, const char *text)
{
	yajl_gen g = tgm_jgen_new();
	const char *id = tgm_json_get_str(j->body, "id");
	const char *json;
	size_t len;

	if (id == NULL || j->bot->token == NULL) {
		yajl_gen_free(g);
		return;
	}
	yajl_gen_map_open(g);
	tgm_jgen_kstr(g, "callback_query_id", id);
	if (text)
		tgm_jgen_kstr(g, "text", text);
	yajl_gen_map_close(g);
	json = tgm_jgen_text(g, &len);
	j->wh->inflight++;
	tgm_tg_call(j->wh->tg, j->wh->ctx->cfg->telegram.api_url, j->bot->token,
		    "answerCallbackQuery", json, len, j->wh->ctx->cfg->telegram.timeout * 1000,
		    on_answered, j->wh);
	yajl_gen_free(g);
}

void wh_callback(struct wh_job *j)
{
	const char *data = tgm_json_get_str(j->body, "data");

	if (data && (strcmp(data, "buy") == 0 || strncmp(data, "buy:", 4) == 0)) {
		wh_answer_callback(j, NULL);
		j->billing = true;
		wh_job_done(j, "to billingd: button buy");
		return;
	}
	if (data && strncmp(data, "m1:", 3) == 0) {
		wh_menu_button(j); /* the admin menu's buttons (menu.c) */
		return;
	}
	if (data && wh_onboard_button(j, data))
		return;
	if (data && strchr(data, ':') && tgm_botset_int(j->bot->settings, "admin_chat_id")) {
		wh_admin_message(j); /* the info card's buttons */
		return;
	}
	wh_answer_callback(j, NULL);
	wh_job_done(j, "ignored: an unknown button");
}
