/*
 * tgjob.c - a Telegram update webhookd handed to billingd, sent to what acts on it:
 * /buy and the "buy" button (the product menu), /buy<N> and a buy:<id> button (a
 * purchase: checkout.c), /start paid_<ref> (back from Checkout: success.c), /billing
 * (the Billing Portal), /history, /autorecharge, a Stars pre_checkout_query (stars.c)
 * and successful_payment. The SQL functions it
 * calls (sql/functions/bd_*.sql) record the answer as a notice (rendered and queued by
 * notice.c) and mark the update done in one transaction; their first column is the bot
 * whose notices to look at. /autorecharge's arguments are parsed in autorecharge.c.
 */
#include "billingd/billingd.h"
#include "billingd/autorecharge.h"
#include "common/json.h"
#include "common/log.h"
#include "common/telegram.h"
#include "common/text.h"
#include "common/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_ATTEMPTS 6
#define NAME_MAX_LEN 32

static const char menu_sql[] = "SELECT CASE WHEN bd_menu($1) THEN $2::bigint ELSE 0 END";
/* clang-format off */
static const char history_sql[] =
	"SELECT CASE WHEN bd_history($1) THEN $2::bigint ELSE 0 END";
/* clang-format on */
static const char autorecharge_sql[] =
	"SELECT CASE WHEN bd_autorecharge($1, $3, $4, $5) THEN $2::bigint ELSE 0 END";
static const char star_paid_sql[] =
	"SELECT CASE WHEN bd_star_paid($1) IS NOT NULL THEN $2::bigint ELSE 0 END";
static const char star_refunded_sql[] =
	"SELECT CASE WHEN bd_star_refunded($1) IS NOT NULL THEN $2::bigint ELSE 0 END";
static const char finish_sql[] = "SELECT bd_finish($1, $3)::int * 0 * $2::bigint";

/* run_sql - one of the SQL steps above with (seq, bot[, arg]) */
static void run_sql(struct bd_job *j, const char *what, const char *sql, const char *arg)
{
	char seq[24], bot[24];
	const char *params[3] = { seq, bot, arg };

	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	snprintf(bot, sizeof(bot), "%lld", (long long)j->bot_id);
	bd_job_sql(j, what, sql, arg ? 3 : 2, params);
}

/* autorecharge - /autorecharge: parsed here, recorded by bd_autorecharge; a bad
 * argument is answered with the usage */
static void autorecharge(struct bd_job *j, const char *args)
{
	struct bd_autorecharge a;
	char seq[24], bot[24], credits[24], below[24];
	const char *params[5] = { seq, bot, NULL, credits, below };

	if (!bd_autorecharge_parse(args, &a)) {
		bd_job_say(j, "autorecharge_usage", "autorecharge");
		return;
	}
	snprintf(seq, sizeof(seq), "%lld", (long long)j->seq);
	snprintf(bot, sizeof(bot), "%lld", (long long)j->bot_id);
	params[2] = a.on ? "t" : "f";
	snprintf(credits, sizeof(credits), "%lld", (long long)a.credits);
	snprintf(below, sizeof(below), "%lld", (long long)a.below);
	bd_job_sql(j, "autorecharge", autorecharge_sql, 5, params);
}

/* buy_ref - "buy10" -> "credits:10"; false when name is not /buy<N> */
static bool buy_ref(const char *name, char *ref, size_t len)
{
	if (strncmp(name, "buy", 3) != 0 || name[3] == '\0' ||
	    strspn(name + 3, "0123456789") != strlen(name + 3) || strlen(name + 3) > 12)
		return false;
	snprintf(ref, len, "credits:%s", name + 3);
	return true;
}

/* on_command - a billing command (webhookd sent only those) */
static void on_command(struct bd_job *j, const char *text)
{
	char name[NAME_MAX_LEN], ref[NAME_MAX_LEN + 16];
	const char *args;

	if (!tgm_tg_command(text, j->username, name, sizeof(name), &args))
		run_sql(j, "finish", finish_sql, "ignored: not a billing command");
	else if (strcmp(name, "buy") == 0)
		run_sql(j, "menu", menu_sql, NULL);
	else if (strcmp(name, "start") == 0 && strncmp(args, "paid_", 5) == 0)
		bd_success(j, args + 5);
	else if (buy_ref(name, ref, sizeof(ref)))
		bd_checkout(j, ref);
	else if (strcmp(name, "billing") == 0)
		bd_checkout_portal(j);
	else if (strcmp(name, "history") == 0)
		run_sql(j, "history", history_sql, NULL);
	else if (strcmp(name, "autorecharge") == 0)
		autorecharge(j, args);
	else
		run_sql(j, "finish", finish_sql, "ignored: not a billing command");
}

/* on_button - the "buy" and "buy:<id>" buttons */
static void on_button(struct bd_job *j, yajl_val cq)
{
	const char *data = tgm_json_get_str(cq, "data");
	char ref[40];

	if (data && strcmp(data, "buy") == 0) {
		run_sql(j, "menu", menu_sql, NULL);
	} else if (data && strncmp(data, "buy:", 4) == 0 && data[4] &&
		   strspn(data + 4, "0123456789") == strlen(data + 4) && strlen(data + 4) < 19) {
		snprintf(ref, sizeof(ref), "id:%s", data + 4);
		bd_checkout(j, ref);
	} else {
		run_sql(j, "finish", finish_sql, "ignored: an unknown button");
	}
}

/* user_of - the user an update is from (0: none), and their first name */
static int64_t user_of(struct bd_job *j, yajl_val body)
{
	yajl_val from = tgm_json_get(body, "from");
	int64_t id = 0;
	const char *first = tgm_json_get_str(from, "first_name");

	tgm_json_get_int(from, "id", &id);
	j->first_name = tgm_xstrdup(first ? first : "");
	return id;
}

void bd_tgjob_run(struct bd_job *j)
{
	yajl_val msg = tgm_json_get(j->update, "message");
	yajl_val cq = tgm_json_get(j->update, "callback_query");
	yajl_val pcq = tgm_json_get(j->update, "pre_checkout_query");
	const char *text = tgm_json_get_str(msg, "text");

	j->user_id = user_of(j, msg ? msg : cq ? cq : pcq);
	if (j->update == NULL || j->user_id == 0)
		run_sql(j, "finish", finish_sql, "ignored: no user");
	else if (j->attempts > MAX_ATTEMPTS)
		bd_job_say(j, "billing_failed", "failed: gave up after several attempts");
	else if (pcq)
		bd_stars_precheckout(j);
	else if (msg && tgm_json_get(msg, "successful_payment"))
		run_sql(j, "stars payment", star_paid_sql, NULL);
	else if (msg && tgm_json_get(msg, "refunded_payment"))
		run_sql(j, "stars refund", star_refunded_sql, NULL);
	else if (cq)
		on_button(j, cq);
	else if (text)
		on_command(j, text);
	else
		run_sql(j, "finish", finish_sql, "ignored: nothing for billingd");
}
