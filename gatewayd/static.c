/*
 * static.c - the dashboard's files: GET / is dashboard/index.html, GET /ui/{file} the
 * others (compiled in, see static.h). Every answer carries a strict Content Security
 * Policy (no inline script or style, nothing from elsewhere, no framing) and nosniff.
 */
#include "gatewayd/gatewayd.h"
#include "gatewayd/static.h"

#include <event2/http.h>
#include <string.h>

/* clang-format off */
#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;" \
	" connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self';" \
	" frame-ancestors 'none'"
/* clang-format on */

/* type_of - the Content-Type of a file by its extension */
static const char *type_of(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "text/plain; charset=utf-8";
}

/* security_headers - what every dashboard answer says about itself */
static void security_headers(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Security-Policy", CSP);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
}

/* serve - the asset of that name, or a 404 */
static void serve(struct gw_req *r, const char *name)
{
	security_headers(r->req);
	for (const struct gw_asset *a = gw_assets; name && a->name; a++) {
		if (strcmp(a->name, name) != 0 || strcmp(name, "index.html") == 0)
			continue;
		tgm_http_reply(r->req, 200, type_of(a->name), (const char *)a->data, a->len);
		gw_req_free(r);
		return;
	}
	gw_reply_problem(r, 404, "not_found", "no such file", NULL);
}

void gw_static_index(struct gw_req *r)
{
	security_headers(r->req);
	for (const struct gw_asset *a = gw_assets; a->name; a++) {
		if (strcmp(a->name, "index.html") == 0) {
			tgm_http_reply(r->req, 200, type_of(a->name), (const char *)a->data,
				       a->len);
			gw_req_free(r);
			return;
		}
	}
	gw_reply_problem(r, 404, "not_found", "this gatewayd was built without the dashboard",
			 NULL);
}

void gw_static_file(struct gw_req *r)
{
	serve(r, tgm_http_param(&r->params, "file"));
}
