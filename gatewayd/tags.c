/*
 * tags.c - a tenant's tags (a name, unique without regard to case, and a colour
 * #rrggbb): GET, POST /v1/tags, PATCH, DELETE /v1/tags/{id} (a deleted tag leaves
 * every conversation); and a conversation's tags: POST /v1/conversations/{id}/tags
 * attaches one, DELETE /v1/conversations/{id}/tags/{tag_id} detaches it, both
 * answering the conversation's tags as they are now.
 */
#include "gatewayd/inbox.h"
#include "common/util.h"

#include <event2/http.h>
#include <stdlib.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* clang-format off */
#define TAG_JSON "json_build_object('id', t.id, 'name', t.name, 'color', t.color," \
	" 'created_at', t.created_at)"
/* clang-format on */
#define TAGS_OF_C "json_build_object('tags', " GW_CONV_TAGS ")"

/* clang-format off */
static const char list_sql[] =
	"SELECT json_build_object('tags', coalesce(json_agg(" TAG_JSON " ORDER BY lower(t.name)),"
	" '[]')) FROM tags t WHERE t.tenant_id = $1";
/* clang-format on */
static const char create_sql[] =
	"INSERT INTO tags AS t (tenant_id, name, color) VALUES ($1, $2, coalesce(lower($3),"
	" '#888888')) RETURNING " TAG_JSON;
static const char update_sql[] =
	"UPDATE tags t SET name = coalesce($3, t.name), color = coalesce(lower($4), t.color)"
	" WHERE t.id = $1 AND t.tenant_id = $2 RETURNING " TAG_JSON;
static const char delete_sql[] =
	"DELETE FROM tags t WHERE t.id = $1 AND t.tenant_id = $2 RETURNING " TAG_JSON;
/* $3: the tag; the columns tell whether the conversation and the tag are the tenant's */
static const char attach_sql[] =
	"WITH t AS (SELECT id FROM tags WHERE id = $3 AND tenant_id = $2),"
	" c AS (SELECT id FROM conversations WHERE id = $1 AND tenant_id = $2),"
	" a AS (INSERT INTO conversation_tags (conversation_id, tag_id)"
	"  SELECT c.id, t.id FROM c, t ON CONFLICT DO NOTHING)"
	" SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM t)";
static const char detach_sql[] =
	"WITH c AS (SELECT id FROM conversations WHERE id = $1 AND tenant_id = $2),"
	" d AS (DELETE FROM conversation_tags ct USING c"
	"  WHERE ct.conversation_id = c.id AND ct.tag_id = $3)"
	" SELECT (SELECT count(*) FROM c), 1";
/* the conversation's tags, read after the change */
/* clang-format off */
static const char tags_sql[] =
	"SELECT " TAGS_OF_C " FROM conversations c WHERE c.id = $1 AND c.tenant_id = $2";
/* clang-format on */

static const char *const fields[] = { "name", "color", NULL };

/* color_ok - #rrggbb */
static bool color_ok(const char *s)
{
	if (strlen(s) != 7 || s[0] != '#')
		return false;
	for (int i = 1; i < 7; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* read_tag - name and color of the body; false after a 422 */
static bool read_tag(struct gw_req *r, const char **name, const char **color)
{
	if (!gw_fields_known(r, fields, "a tag has name and color") ||
	    !gw_field_text(r, "name", 1, 64, false, name) ||
	    !gw_field_text(r, "color", 7, 7, false, color))
		return false;
	if (*color && !color_ok(*color)) {
		gw_reply_problem(r, 422, "invalid_field", "color must be #rrggbb", "color");
		return false;
	}
	return true;
}

/* tag_path - the tag {id} (or {tag_id}) of the path; false after a 404 */
static bool tag_path(struct gw_req *r, const char *name, char id[24])
{
	int64_t v;

	if (!gw_path_id(r, name, &v)) {
		gw_reply_problem(r, 404, "tag_not_found", "no such tag", NULL);
		return false;
	}
	snprintf(id, 24, "%lld", (long long)v);
	return true;
}

/* on_tag - create_sql, update_sql or delete_sql answered: the tag (201 when created),
 * a 409 when the name is taken, or a 404 */
static void on_tag(struct gw_req *r, PGresult *res, const char *err)
{
	bool created = evhttp_request_get_command(r->req) == EVHTTP_REQ_POST;

	if (err && gw_sqlstate_is(res, "23505"))
		gw_reply_problem(r, 409, "tag_exists", "a tag of this name exists", "name");
	else if (err)
		gw_reply_db_error(r, err);
	else if (PQntuples(res) == 0)
		gw_reply_problem(r, 404, "tag_not_found", "no such tag", NULL);
	else
		gw_reply_raw(r, created ? 201 : 200, PQgetvalue(res, 0, 0));
}

void gw_tags_list(struct gw_req *r)
{
	char tenant[24];

	gw_tenant_param(r, tenant);
	gw_query_sql(r, list_sql, 1, (const char *const[]){ tenant }, gw_on_json);
}

void gw_tags_create(struct gw_req *r)
{
	char tenant[24];
	const char *name, *color;

	if (!read_tag(r, &name, &color))
		return;
	if (name == NULL) {
		gw_reply_problem(r, 422, "invalid_field", "name is required", "name");
		return;
	}
	gw_tenant_param(r, tenant);
	gw_query_sql(r, create_sql, 3, (const char *const[]){ tenant, name, color }, on_tag);
}

void gw_tags_update(struct gw_req *r)
{
	char id[24], tenant[24];
	const char *name, *color;

	if (!read_tag(r, &name, &color) || !tag_path(r, "id", id))
		return;
	gw_tenant_param(r, tenant);
	gw_query_sql(r, update_sql, 4, (const char *const[]){ id, tenant, name, color }, on_tag);
}

void gw_tags_delete(struct gw_req *r)
{
	char id[24], tenant[24];

	if (!tag_path(r, "id", id))
		return;
	gw_tenant_param(r, tenant);
	gw_query_sql(r, delete_sql, 2, (const char *const[]){ id, tenant }, on_tag);
}

/* the conversation and tenant of an attach or detach, for the second statement */
struct conv_tag {
	char conv[24], tenant[24], tag[24];
};

/* on_changed - attach_sql or detach_sql answered: reads the conversation's tags (tags_sql);
 * a 404 when the conversation or the tag is missing */
static void on_changed(struct gw_req *r, PGresult *res, const char *err)
{
	struct conv_tag *ct = r->data;

	if (err)
		gw_reply_db_error(r, err);
	else if (PQgetvalue(res, 0, 0)[0] == '0')
		gw_conv_missing(r);
	else if (PQgetvalue(res, 0, 1)[0] == '0')
		gw_reply_problem(r, 404, "tag_not_found", "no such tag", NULL);
	else
		gw_query_sql(r, tags_sql, 2, (const char *const[]){ ct->conv, ct->tenant },
			     gw_on_json);
}

/* conv_tag - the conversation of the path and the tag; false after an answer */
static struct conv_tag *conv_tag(struct gw_req *r, const char *tag)
{
	struct conv_tag *ct = tgm_xcalloc(1, sizeof(*ct));

	r->data = ct;
	r->data_free = free;
	if (!gw_conv_path(r, ct->conv, ct->tenant))
		return NULL;
	if (tag == NULL && !tag_path(r, "tag_id", ct->tag))
		return NULL;
	if (tag)
		snprintf(ct->tag, sizeof(ct->tag), "%s", tag);
	return ct;
}

void gw_tags_attach(struct gw_req *r)
{
	static const char *const only[] = { "tag_id", NULL };
	struct conv_tag *ct;
	char buf[24];
	const char *tag;

	if (!gw_fields_known(r, only, "give the tag as tag_id") ||
	    !gw_field_id(r, "tag_id", buf, &tag))
		return;
	if (tag == NULL) {
		gw_reply_problem(r, 422, "invalid_field", "tag_id is required", "tag_id");
		return;
	}
	if ((ct = conv_tag(r, tag)) != NULL)
		gw_query_sql(r, attach_sql, 3,
			     (const char *const[]){ ct->conv, ct->tenant, ct->tag }, on_changed);
}

void gw_tags_detach(struct gw_req *r)
{
	struct conv_tag *ct = conv_tag(r, NULL);

	if (ct)
		gw_query_sql(r, detach_sql, 3,
			     (const char *const[]){ ct->conv, ct->tenant, ct->tag }, on_changed);
}
