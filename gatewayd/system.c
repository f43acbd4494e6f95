/*
 * system.c - GET /v1/system, for the dashboard's System page (admin scope): the schema
 * version, the database's size, the daemons' heartbeats, which senderd instance holds
 * the lane of each of the tenant's bots (with its queue, from the counters of
 * sql/009_counters.sql), and the tenant's latest message errors.
 */
#include "gatewayd/gatewayd.h"

static const char system_sql[] =
	"SELECT json_build_object("
	" 'schema_version', (SELECT max(version) FROM schema_migrations),"
	" 'database_size_bytes', pg_database_size(current_database()),"
	" 'daemons', (SELECT coalesce(json_agg(json_build_object('name', name, 'instance',"
	"   instance, 'host', host, 'pid', pid, 'version', version, 'started_at', started_at,"
	"   'seen_at', seen_at, 'stopped_at', stopped_at) ORDER BY name, instance, host), '[]')"
	"   FROM daemons),"
	" 'lanes', (SELECT coalesce(json_agg(json_build_object('bot_id', b.id, 'bot', b.name,"
	"   'owner', l.owner, 'expires_at', l.expires_at, 'held', l.expires_at > now(),"
	"   'queued', (SELECT coalesce(sum(c.n), 0)::bigint FROM bot_status_counts c"
	"     WHERE c.bot_id = b.id AND c.status IN ('queued', 'retrying')))"
	"   ORDER BY b.id), '[]')"
	"   FROM bots b LEFT JOIN bot_leases l ON l.bot_id = b.id"
	"   WHERE b.tenant_id = $1 AND b.deleted_at IS NULL),"
	" 'recent_errors', (SELECT coalesce(json_agg(json_build_object('message_id', m.id,"
	"   'bot_id', m.bot_id, 'status', m.status, 'error', m.last_error, 'at', m.updated_at)"
	"   ORDER BY m.id DESC), '[]') FROM (SELECT * FROM (SELECT * FROM messages"
	"   WHERE tenant_id = $1 ORDER BY id DESC LIMIT 10000) last"
	"   WHERE last_error IS NOT NULL ORDER BY id DESC LIMIT 20) m))";

void gw_system(struct gw_req *r)
{
	char tenant[24];

	gw_tenant_param(r, tenant);
	gw_query_summary(r, "gw_system", system_sql, 1, (const char *const[]){ tenant },
			 gw_on_json);
}
