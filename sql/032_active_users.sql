-- 032_active_users.sql - the bot users active in the last day, week and month of each
-- bot, as of `at`: gatewayd's janitor refreshes them every minute
-- (sql/functions/bot_active_refresh.sql), and GET /v1/stats/activity reads them for a
-- range ending now instead of counting a month of bot users on every call.
CREATE TABLE bot_active_users (
    bot_id  bigint PRIMARY KEY,
    at      timestamptz NOT NULL,
    day     bigint NOT NULL,
    week    bigint NOT NULL,
    month   bigint NOT NULL
);
