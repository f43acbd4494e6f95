/*
 * openapi.c - GET /v1/openapi.yaml: the API description, docs/openapi.yaml compiled
 * into the program (build/gen/openapi.c) so it always matches the build.
 */
#include "gatewayd/gatewayd.h"

#include <string.h>

extern const char gw_openapi_yaml[];

void gw_openapi(struct gw_req *r)
{
	tgm_http_reply(r->req, 200, "application/yaml", gw_openapi_yaml, strlen(gw_openapi_yaml));
	gw_req_free(r);
}
