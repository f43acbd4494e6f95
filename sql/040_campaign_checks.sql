-- 040_campaign_checks.sql - cheaper integrity checks for a campaign's start, which writes
-- a row in campaign_recipients and one in messages for each of up to 100,000 recipients
-- in one statement (sql/functions/campaign_start.sql). Each foreign key checked every
-- row on its own (a query and a row lock): three checks a recipient were 43% of the
-- start's CPU (bench/campaigns.sh, measured in alternating rounds on 2026-12-04).
--
-- 1. messages: the foreign keys to tenants and to bots become one, (bot_id, tenant_id)
--    to bots (id, tenant_id). One check a row instead of two, and a stronger rule: a
--    message's tenant is its bot's tenant (every tenant-scoped read relies on it). The
--    tenant is still known to exist, through bots' own foreign key to tenants. Adding it
--    reads every partition once to check the rows there (no NOT VALID on a partitioned
--    table in PostgreSQL 15): seconds per million messages; the tables are locked
--    meanwhile, so stop the daemons first.
ALTER TABLE bots ADD CONSTRAINT bots_id_tenant UNIQUE (id, tenant_id);
ALTER TABLE messages ADD CONSTRAINT messages_bot_tenant_fkey
    FOREIGN KEY (bot_id, tenant_id) REFERENCES bots (id, tenant_id);
ALTER TABLE messages DROP CONSTRAINT messages_bot_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_fkey;

-- 2. campaign_recipients -> campaigns: checked once per statement by a trigger
--    (sql/functions/campaign_recipients_check.sql: the statement's campaigns locked FOR
--    KEY SHARE and counted), with its other half on campaigns
--    (sql/functions/campaigns_keep_recipients.sql: no delete, no new id while the
--    campaign has recipients). A statement adds the recipients of one campaign, so the
--    check is one lookup instead of one per recipient.
ALTER TABLE campaign_recipients DROP CONSTRAINT campaign_recipients_campaign_id_fkey;
