/*
 * agents.c - GET /v1/agents: who can be assigned a conversation, for every role
 * (GET /v1/accounts is the owners'): the tenant's enabled accounts of role agent,
 * admin or owner, with id, email and role only.
 */
#include "gatewayd/inbox.h"

static const char list_sql[] =
	"SELECT json_build_object('agents', coalesce(json_agg(json_build_object('id', id,"
	" 'email', email, 'role', role) ORDER BY lower(email)), '[]')) FROM accounts"
	" WHERE tenant_id = $1 AND disabled_at IS NULL AND role IN ('agent', 'admin', 'owner')";

void gw_agents_list(struct gw_req *r)
{
	char tenant[24];

	gw_tenant_param(r, tenant);
	gw_query_sql(r, list_sql, 1, (const char *const[]){ tenant }, gw_on_json);
}
