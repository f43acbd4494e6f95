-- history.sql - a history of stored messages, run by psql with variables:
--   tenant  the tenant's name (made before), given a bot named 'history' here
--   nmsg    messages to add, in statements of a million: all sent over the last
--           30 days, in id order, each with its two events ('sending', 'sent'); one in
--           ten of the last day's with an idempotency key (older keys were forgotten)
-- The counters' triggers are off meanwhile (session_replication_role), as a history
-- restored from a dump would be: this measures storage, not the counters.
SET session_replication_role = replica;
INSERT INTO bots (tenant_id, telegram_id, username, name, token_sealed, token_hash)
SELECT t.id, 800000000, :'tenant' || '_history', 'history', 'v1.unused',
       decode(md5(:'tenant' || ':history'), 'hex')
FROM tenants t WHERE t.name = :'tenant';

SELECT format($s$
WITH m AS (
INSERT INTO messages (tenant_id, bot_id, chat, params, status, attempts, idempotency_key,
                      request_hash, created_at, updated_at, sent_at, telegram_message_id)
SELECT b.tenant_id, b.id, (g %% 100000)::text,
       jsonb_build_object('chat_id', g %% 100000, 'text', 'history ' || g), 'sent', 1,
       CASE WHEN g %% 10 = 0 AND x.at > now() - interval '1 day' THEN 'history-' || g END,
       CASE WHEN g %% 10 = 0 AND x.at > now() - interval '1 day' THEN sha256(g::text::bytea) END,
       x.at, x.at, x.at + interval '200 ms', g
FROM generate_series(%s, %s) g,
LATERAL (SELECT now() - interval '30 days' * (1 - g::float8 / %s) AS at) x,
(SELECT id, tenant_id FROM bots WHERE name = 'history'
 AND tenant_id = (SELECT id FROM tenants WHERE name = %L)) b
ORDER BY g
RETURNING id, created_at)
INSERT INTO message_events (message_id, status, at)
SELECT id, s, created_at + d FROM m,
(VALUES ('sending', interval '10 ms'), ('sent', interval '200 ms')) e(s, d)
$s$, lo, least(lo + 999999, :nmsg - 1), :nmsg, :'tenant')
FROM generate_series(0, :nmsg - 1, 1000000) lo
\gexec
RESET session_replication_role;
