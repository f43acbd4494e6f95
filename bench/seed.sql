-- seed.sql - bench data for bench/reads.sh, run by psql with variables:
--   tenant  the tenant's name (made by `tgmctl key create` before)
--   nbots   bots to create for it
--   nmsg    messages to add, in statements of 500,000
--   kind    day: a day of traffic to 50,000 chats, a third sent (50-450 ms after
--           acceptance), 2 % failed, 2 % canceled, the rest queued;
--           queued: all queued now, to chats 100000-104999, each chat known to 3 bots
INSERT INTO bots (tenant_id, telegram_id, username, name, token_sealed, token_hash)
SELECT t.id, 900000000 + i, :'tenant' || i, :'tenant', 'v1.unused',
       decode(md5(:'tenant' || ':' || i), 'hex')
FROM tenants t, generate_series(1, :nbots) i WHERE t.name = :'tenant';

SELECT format($s$
INSERT INTO messages (tenant_id, bot_id, chat, params, status, attempts, last_error,
                      created_at, updated_at, sent_at)
SELECT b.tenant_id, b.id, x.chat, jsonb_build_object('chat_id', x.chat::bigint, 'text',
       'seeded ' || g), x.status, CASE WHEN x.status IN ('sent', 'failed') THEN 1 ELSE 0 END,
       CASE WHEN x.status = 'failed' THEN 'Forbidden: bot was blocked by the user' END,
       x.at, x.at, CASE WHEN x.status = 'sent' THEN x.at + (50 + g %% 400) * interval '1 ms' END
FROM generate_series(%s, %s) g,
LATERAL (SELECT CASE WHEN %L = 'day' THEN (g %% 50000)::text
                     ELSE (100000 + g %% 5000)::text END AS chat,
                CASE WHEN %L = 'queued' THEN 'queued' WHEN g %% 3 = 0 THEN 'sent'
                     WHEN g %% 50 = 1 THEN 'failed' WHEN g %% 50 = 2 THEN 'canceled'
                     ELSE 'queued' END AS status,
                CASE WHEN %L = 'day' THEN now() - interval '1 day' * (1 - g::float8 / %s)
                     ELSE now() END AS at,
                CASE WHEN %L = 'day' THEN g %% %s
                     ELSE ((g %% 5000) * 7 + (g / 5000) %% 3) %% %s END AS k) x
JOIN (SELECT id, tenant_id, row_number() OVER (ORDER BY id) - 1 AS k FROM bots
      WHERE tenant_id = (SELECT id FROM tenants WHERE name = %L)) b ON b.k = x.k
$s$, lo, least(lo + 499999, :nmsg - 1), :'kind', :'kind', :'kind', :nmsg, :'kind', :nbots,
      :nbots, :'tenant')
FROM generate_series(0, :nmsg - 1, 500000) lo
\gexec
