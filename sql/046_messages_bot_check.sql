-- 046_messages_bot_check.sql - a message's bot (and that it is of the message's tenant)
-- checked once per statement instead of once a row: the foreign key messages (bot_id,
-- tenant_id) -> bots (id, tenant_id) of 040 becomes the statement trigger
-- sql/functions/messages_bot_check.sql with its other half on bots,
-- sql/functions/bots_keep_messages.sql (no delete, no new id or tenant while the bot has
-- messages). Its check per row was 19 % of the accept statement's CPU (perf on the
-- accept backend, 2026-12-04); an accept group names one bot or a few, a campaign start
-- two. Dropping the key reads nothing.
ALTER TABLE messages DROP CONSTRAINT messages_bot_tenant_fkey;
