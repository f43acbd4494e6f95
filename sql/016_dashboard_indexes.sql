-- 016_dashboard_indexes.sql - what GET /v1/stats/activity reads, indexed by bot and time
-- with the figures included, so that a period's heatmap, active users, revenue and
-- credits are read from the indexes alone (index-only scans), never from whole tables.
CREATE INDEX tg_updates_bot_received ON tg_updates (bot_id, received_at);
CREATE INDEX bot_users_bot_seen ON bot_users (bot_id, last_seen_at);
CREATE INDEX payments_bot_paid ON payments (bot_id, paid_at)
    INCLUDE (currency, amount, refunded_amount) WHERE status = 'paid';
CREATE INDEX ledger_bot_debits ON ledger (bot_id, at) INCLUDE (credits) WHERE kind = 'debit';
