-- dashboard_seed.sql - the rest of a dashboard tenant, after bench/seed.sql made its bots
-- and messages (bench/dashboard.sh, bench/coldload.sh): over those bots, 100,000 bot
-- users, 10,000 payments (a tenth refunded, 1 % disputed), 200,000 inbound updates and
-- 100,000 credit debits over a week. Run by psql.
CREATE TEMP TABLE b AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM bots;
INSERT INTO bot_users (bot_id, user_id, first_name, credits, spent, first_seen_at, last_seen_at)
SELECT b.id, g, 'user ' || g, g % 100, g % 37, now() - interval '60 days',
       now() - interval '45 days' * ((g % 1000) / 1000.0)
FROM generate_series(1, 100000) g JOIN b ON b.k = g % 10;
INSERT INTO payments (bot_id, user_id, kind, status, amount, currency, credits,
                      refunded_amount, refunded_credits, created_at, paid_at)
SELECT b.id, ((g % 9999) + 1) * 10 + b.k, 'checkout',
       CASE WHEN g % 20 = 0 THEN 'failed' ELSE 'paid' END, 500, 'eur', 50,
       CASE WHEN g % 10 = 0 THEN 200 ELSE 0 END, CASE WHEN g % 10 = 0 THEN 20 ELSE 0 END,
       now() - interval '30 days' * (g / 10000.0),
       CASE WHEN g % 20 <> 0 THEN now() - interval '30 days' * (g / 10000.0) END
FROM generate_series(1, 10000) g JOIN b ON b.k = g % 10;
INSERT INTO disputes (id, payment_id, bot_id, user_id, amount, currency, reason, status, payload)
SELECT 'dp_' || id, id, bot_id, user_id, amount, currency, 'fraudulent', 'needs_response', '{}'
FROM payments WHERE id % 100 = 0;
INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload, received_at, processed_at)
SELECT b.id, g, g % 50000, 'message', '{}', now() - interval '7 days' * (g / 200000.0), now()
FROM generate_series(1, 200000) g JOIN b ON b.k = g % 10;
INSERT INTO ledger (bot_id, user_id, key, kind, requested, credits, balance, at)
SELECT b.id, ((g % 9999) + 1) * 10 + b.k, 'bench' || g, 'debit', -1, -1, 0,
       now() - interval '7 days' * (g / 100000.0)
FROM generate_series(1, 100000) g JOIN b ON b.k = g % 10;
