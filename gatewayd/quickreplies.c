/*
 * quickreplies.c - a tenant's quick replies, templates an agent sends with a click,
 * grouped by category and counting their uses: GET, POST /v1/quick-replies, PATCH,
 * DELETE /v1/quick-replies/{id}. common/uservars.c fills a template's variables when one
 * is sent (inboxreply.c).
 */
#include "gatewayd/inbox.h"

#include <event2/http.h>
#include <stdio.h>
#include <string.h>

/* clang-format off */
#define QR_JSON "json_build_object('id', q.id, 'category', q.category, 'title', q.title," \
	" 'text', q.text, 'uses', q.uses, 'created_at', q.created_at," \
	" 'updated_at', q.updated_at)"
/* clang-format on */

static const char list_sql[] =
	"SELECT json_build_object('quick_replies', coalesce(json_agg(" QR_JSON
	" ORDER BY q.category, q.title, q.id), '[]')) FROM quick_replies q"
	" WHERE q.tenant_id = $1 AND ($2::text IS NULL OR q.category = $2)";
/* clang-format off */
static const char create_sql[] =
	"INSERT INTO quick_replies AS q (tenant_id, category, title, text)"
	" VALUES ($1, coalesce($2, ''), $3, $4) RETURNING " QR_JSON;
/* clang-format on */
static const char update_sql[] =
	"UPDATE quick_replies q SET category = coalesce($3, q.category),"
	" title = coalesce($4, q.title), text = coalesce($5, q.text), updated_at = now()"
	" WHERE q.id = $1 AND q.tenant_id = $2 RETURNING " QR_JSON;
static const char delete_sql[] =
	"DELETE FROM quick_replies q WHERE q.id = $1 AND q.tenant_id = $2 RETURNING " QR_JSON;

static const char *const fields[] = { "category", "title", "text", NULL };

/* read_qr - category, title and text of the body; false after a 422 */
static bool read_qr(struct gw_req *r, const char *v[3])
{
	return gw_fields_known(r, fields, "a quick reply has category, title and text") &&
	       gw_field_text(r, "category", 0, 64, false, &v[0]) &&
	       gw_field_text(r, "title", 1, 100, false, &v[1]) &&
	       gw_field_text(r, "text", 1, 4096, false, &v[2]);
}

/* qr_path - the {id} of the path; false after a 404 */
static bool qr_path(struct gw_req *r, char id[24], char tenant[24])
{
	int64_t v;

	if (!gw_path_id(r, "id", &v)) {
		gw_reply_problem(r, 404, "quick_reply_not_found", "no such quick reply", NULL);
		return false;
	}
	snprintf(id, 24, "%lld", (long long)v);
	gw_tenant_param(r, tenant);
	return true;
}

/* on_qr - create_sql, update_sql or delete_sql answered: the quick reply (201 when
 * created), or a 404 */
static void on_qr(struct gw_req *r, PGresult *res, const char *err)
{
	bool created = evhttp_request_get_command(r->req) == EVHTTP_REQ_POST;

	if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_reply_problem(r, 404, "quick_reply_not_found", "no such quick reply", NULL);
	else
		gw_reply_raw(r, created ? 201 : 200, PQgetvalue(res, 0, 0));
}

void gw_quickreplies_list(struct gw_req *r)
{
	char tenant[24];

	gw_tenant_param(r, tenant);
	gw_query_sql(r, list_sql, 2, (const char *const[]){ tenant, gw_query(r, "category") },
		     gw_on_json);
}

void gw_quickreplies_create(struct gw_req *r)
{
	char tenant[24];
	const char *v[3];

	if (!read_qr(r, v))
		return;
	if (v[1] == NULL || v[2] == NULL) {
		gw_reply_problem(r, 422, "invalid_field", "title and text are required",
				 v[1] ? "text" : "title");
		return;
	}
	gw_tenant_param(r, tenant);
	gw_query_sql(r, create_sql, 4, (const char *const[]){ tenant, v[0], v[1], v[2] }, on_qr);
}

void gw_quickreplies_update(struct gw_req *r)
{
	char id[24], tenant[24];
	const char *v[3];

	if (read_qr(r, v) && qr_path(r, id, tenant))
		gw_query_sql(r, update_sql, 5,
			     (const char *const[]){ id, tenant, v[0], v[1], v[2] }, on_qr);
}

void gw_quickreplies_delete(struct gw_req *r)
{
	char id[24], tenant[24];

	if (qr_path(r, id, tenant))
		gw_query_sql(r, delete_sql, 2, (const char *const[]){ id, tenant }, on_qr);
}
