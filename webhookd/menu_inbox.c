/*
 * menu_inbox.c - the admin menu's inbox views (docs/admin-centre.md): Conversations (c),
 * the bot's open and pending conversations, unread first, then the pinned ones (the
 * inbox's flag), each with how long the user has waited, the mean time their answers
 * took (inbox_responses) and a button to their topic in the admin group
 * (t.me/c/<id>/<thread>); Quick replies (q), the tenant's templates, paged, with Add
 * (qa: "title: text" asked for) and Delete (qd), both audited.
 */
#include "webhookd/menu.h"
#include "common/botset.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

/* $2 the page */
static const char conversations_sql[] =
	"SELECT c.chat_id, coalesce(nullif(c.contact, ''), c.chat_id::text), c.unread,"
	" coalesce(floor(extract(epoch FROM now() - c.last_inbound_at) / 60)::bigint, 0),"
	" coalesce(t.thread_id, 0), c.pinned,"
	" coalesce((SELECT round(avg(r.wait_seconds) / 60)::bigint FROM inbox_responses(c.id) r), -1)"
	" FROM conversations c LEFT JOIN topics t ON t.bot_id = c.bot_id AND t.user_id = c.chat_id"
	"  AND t.admin_chat_id = $3 AND t.thread_id IS NOT NULL"
	" WHERE c.bot_id = $1 AND c.state IN ('open', 'pending')"
	" ORDER BY c.unread > 0 DESC, c.pinned DESC, c.last_inbound_at DESC NULLS LAST, c.id"
	" LIMIT " WH_MENU_PAGE_TEXT " + 1 OFFSET $2::int * " WH_MENU_PAGE_TEXT;

static const char quick_sql[] =
	"SELECT q.id, q.title, q.uses FROM quick_replies q JOIN bots b ON b.tenant_id = q.tenant_id"
	" WHERE b.id = $1 ORDER BY q.category, q.title, q.id"
	" LIMIT " WH_MENU_PAGE_TEXT " + 1 OFFSET $2::int * " WH_MENU_PAGE_TEXT;

/* $2 the title, $3 the text */
static const char quick_add_sql[] =
	"INSERT INTO quick_replies (tenant_id, title, text) SELECT tenant_id, $2, $3 FROM bots"
	" WHERE id = $1 RETURNING id";

static const char quick_delete_sql[] =
	"DELETE FROM quick_replies q USING bots b WHERE b.id = $1 AND q.tenant_id = b.tenant_id"
	" AND q.id = $2 RETURNING q.id";

/* topic_row - a conversation of conversations_sql as a button to its topic, if any */
static void topic_row(struct wh_job *j, PGresult *res, int i)
{
	char line[300], url[96];
	int64_t admin = tgm_botset_int(j->bot->settings, "admin_chat_id"), thread = 0;

	tgm_parse_int64(PQgetvalue(res, i, 4), &thread);
	if (thread == 0 || admin >= -1000000000000LL)
		return;
	snprintf(url, sizeof(url), "https://t.me/c/%lld/%lld",
		 (long long)(-admin - 1000000000000LL), (long long)thread);
	snprintf(line, sizeof(line), "💬 %s", PQgetvalue(res, i, 1));
	wh_menu_row(j);
	wh_menu_url(j, line, url);
}

/* on_conversations - conversations_sql answered: a line and a topic button each (on
 * err, no rows: the text is not sent) */
static void on_conversations(struct wh_job *j, PGresult *res, const char *err)
{
	char text[3000], line[300];
	int n = PQntuples(res);
	size_t at;

	at = (size_t)snprintf(
		text, sizeof(text), "%s",
		wh_menu_t(j, n ? "menu_conversations_title" : "menu_conversations_none"));
	for (int i = 0; i < n && i < WH_MENU_PAGE; i++) {
		const char *vars[] = { "who",     PQgetvalue(res, i, 1),
				       "unread",  PQgetvalue(res, i, 2),
				       "minutes", PQgetvalue(res, i, 3),
				       "answer",  PQgetvalue(res, i, 6),
				       NULL };
		bool answered = strcmp(PQgetvalue(res, i, 6), "-1") != 0;

		wh_menu_fill(j, line, sizeof(line),
			     answered ? "menu_conversation_line" : "menu_conversation_new", vars);
		at += (size_t)snprintf(text + at, at < sizeof(text) ? sizeof(text) - at : 0,
				       "\n%s%s", PQgetvalue(res, i, 5)[0] == 't' ? "📌 " : "", line);
	}
	if (!wh_menu_list(j, res, err, text, "c", topic_row))
		return;
	wh_menu_end(j, "h", 0);
	wh_menu_done(j, "admin menu: conversations");
}

/* wh_menu_conversations - c */
void wh_menu_conversations(struct wh_job *j)
{
	char p[3][24];
	const char *params[3] = { p[0], p[1], p[2] };

	tgm_i64(p[0], 24, j->bot_id);
	tgm_i64(p[1], 24, j->menu.page);
	tgm_i64(p[2], 24, tgm_botset_int(j->bot->settings, "admin_chat_id"));
	wh_job_query(j, conversations_sql, 3, params, on_conversations);
}

/* quick_row - a template of quick_sql as its Delete button */
static void quick_row(struct wh_job *j, PGresult *res, int i)
{
	char label[200];

	snprintf(label, sizeof(label), "🗑 %s (%s)", PQgetvalue(res, i, 1),
		 PQgetvalue(res, i, 2));
	wh_menu_item(j, label, "qd", res, i);
}

/* on_quick - quick_sql answered: a Delete button per template, Add */
static void on_quick(struct wh_job *j, PGresult *res, const char *err)
{
	if (!wh_menu_list(j, res, err,
			  wh_menu_t(j, PQntuples(res) ? "menu_quick_title" : "menu_quick_none"),
			  "q", quick_row))
		return;
	wh_menu_key(j, wh_menu_t(j, "menu_quick_add"), "qa", 0, 0);
	wh_menu_end(j, "h", 0);
	wh_menu_done(j, "admin menu: quick replies");
}

/* wh_menu_quick - q: the templates */
void wh_menu_quick(struct wh_job *j)
{
	char p[2][24];
	const char *params[2] = { p[0], p[1] };

	tgm_i64(p[0], 24, j->bot_id);
	tgm_i64(p[1], 24, j->menu.page);
	wh_job_query(j, quick_sql, 2, params, on_quick);
}

/* on_quick_changed - quick_add_sql or quick_delete_sql answered: audited, the list again */
static void on_quick_changed(struct wh_job *j, PGresult *res, const char *err)
{
	bool add = strcmp(j->menu.view, "qa") == 0;

	if (err) {
		wh_menu_error(j, err);
		return;
	}
	if (PQntuples(res) != 1) {
		wh_menu_nothing(j);
		return;
	}
	wh_audit(j, add ? "quick_reply_add" : "quick_reply_delete", PQgetvalue(res, 0, 0), NULL);
	j->menu.toast = wh_menu_t(j, "menu_saved");
	wh_menu_show(j, "q", 0);
}

/* wh_menu_quick_change - qa: "title: text" asked for, then added; qd: deleted */
void wh_menu_quick_change(struct wh_job *j)
{
	char p[2][24], title[101];
	const char *params[3] = { p[0], p[1], NULL }, *colon;
	size_t len;

	wh_menu_params(j, p[0], p[1]);
	if (strcmp(j->menu.view, "qd") == 0) {
		wh_job_query(j, quick_delete_sql, 2, params, on_quick_changed);
		return;
	}
	colon = j->menu.input ? strchr(j->menu.input, ':') : NULL;
	len = colon ? (size_t)(colon - j->menu.input) : 0;
	if (colon == NULL || len == 0 || len > 100 || colon[1] == '\0' ||
	    strlen(colon + 1) > 4096) {
		wh_menu_prompt(j, wh_menu_t(j, "menu_quick_ask"), "q", 0);
		return;
	}
	snprintf(title, sizeof(title), "%.*s", (int)len, j->menu.input);
	params[1] = title;
	params[2] = colon + 1 + strspn(colon + 1, " ");
	wh_job_query(j, quick_add_sql, 3, params, on_quick_changed);
}
