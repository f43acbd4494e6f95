-- 036_campaign_outcomes.sql - a recipient's outcome kept with the recipient once its
-- message is pruned: the retention pruner copies it (sql/functions/campaign_freeze.sql)
-- before the message's partition goes, and a campaign's progress and report read it
-- where the message is gone. NULL while the message is there.
ALTER TABLE campaign_recipients
    ADD COLUMN status text,
    ADD COLUMN attempts integer,
    ADD COLUMN telegram_message_id bigint,
    ADD COLUMN sent_at timestamptz,
    ADD COLUMN last_error text;
