/*
 * page.c - cursor paging of lists: the after and limit parameters, and the answer
 * {"<name>": [...], "next_cursor": ...} built from rows of (JSON, cursor), fetched one
 * more than the limit so that the extra row tells another page exists.
 */
#include "gatewayd/gatewayd.h"
#include "common/buf.h"
#include "common/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define PAGE_DEFAULT 50
#define PAGE_MAX 1000

/* page_param - an optional positive integer query parameter; false after a 422 */
static bool page_param(struct gw_req *r, const char *name, int64_t max, const char **out)
{
	int64_t v;
	char detail[64];

	*out = gw_query(r, name);
	if (*out == NULL || (tgm_parse_int64(*out, &v) && v > 0 && v <= max))
		return true;
	snprintf(detail, sizeof(detail), "%s must be an integer from 1 to %lld", name,
		 (long long)max);
	gw_reply_problem(r, 422, "invalid_parameter", detail, name);
	return false;
}

bool gw_page_params(struct gw_req *r, struct gw_page *pg)
{
	const char *lim;
	int64_t limit = PAGE_DEFAULT;

	if (!page_param(r, "after", INT64_MAX, &pg->after) ||
	    !page_param(r, "limit", PAGE_MAX, &lim))
		return false;
	if (lim)
		tgm_parse_int64(lim, &limit);
	pg->limit = (int)limit;
	snprintf(pg->fetch, sizeof(pg->fetch), "%d", pg->limit + 1); /* one more: more pages */
	r->data = tgm_xmalloc(sizeof(int));
	*(int *)r->data = pg->limit;
	r->data_free = free;
	return true;
}

void gw_reply_rows(struct gw_req *r, PGresult *res, int rows, const char *name)
{
	struct tgm_buf out;
	int limit = *(int *)r->data, n = rows > limit ? limit : rows;

	tgm_buf_init(&out);
	tgm_buf_printf(&out, "{\"%s\":[", name);
	for (int i = 0; i < n; i++) {
		if (i)
			tgm_buf_addc(&out, ',');
		tgm_buf_adds(&out, PQgetvalue(res, i, 0));
	}
	tgm_buf_adds(&out, "],\"next_cursor\":");
	if (rows > limit) /* one row more than asked for: there are more pages */
		tgm_buf_printf(&out, "\"%s\"", PQgetvalue(res, n - 1, 1));
	else
		tgm_buf_adds(&out, "null");
	tgm_buf_addc(&out, '}');
	gw_reply_raw(r, 200, out.p);
	tgm_buf_free(&out);
}

void gw_reply_page(struct gw_req *r, PGresult *res, const char *err, const char *name)
{
	if (err) {
		gw_reply_db_error(r, err);
		return;
	}
	if (PQntuples(res) == 0) {
		gw_reply_problem(r, 404, "bot_not_found", "no such bot", NULL);
		return;
	}
	/* the bot without rows comes as one NULL row */
	gw_reply_rows(r, res, PQgetisnull(res, 0, 0) ? 0 : PQntuples(res), name);
}
