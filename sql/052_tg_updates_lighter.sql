-- 052_tg_updates_lighter.sql - storing an update costs fewer writes (webhookd's intake:
-- docs/bench.md). Measured on the store group statement (32 updates a statement, one
-- session): 19.7-21.6 us of PostgreSQL's CPU an update before, 15.8 after.
-- 1. Two indexes nothing reads any more: GET /v1/stats/activity read inbound updates and
--    credits spent by bot and time from them (016); since 030 it reads the hourly
--    counters the triggers keep. Every stored update (and every processed one: its new
--    row version) and every debit paid for an entry.
-- 2. An update's bot checked once per statement instead of once a row: the foreign key
--    tg_updates (bot_id) -> bots (id) becomes the statement trigger
--    sql/functions/tg_updates_bot_check.sql with its other half on bots,
--    sql/functions/bots_keep_updates.sql (as 046 did for messages). Its check per row was
--    3 us of the 20. Dropping the key reads nothing.
DROP INDEX IF EXISTS tg_updates_bot_received;
DROP INDEX IF EXISTS ledger_bot_debits;
ALTER TABLE tg_updates DROP CONSTRAINT tg_updates_bot_id_fkey;
