-- 015_bot_setting_defaults.sql - the bot settings' defaults, for SQL: one row per key
-- of common/botset.c's table, written by every `tgmctl migrate` from that table (the
-- only copy), so SQL never repeats a default as a literal.

CREATE TABLE bot_setting_defaults (
    key   text PRIMARY KEY,
    value jsonb NOT NULL
);
