-- campaigns_keep_recipients.sql - trigger: a campaign with recipients is neither deleted
-- nor given another id, the other half of the check of campaign_recipients_check (the
-- foreign key's, which migration 040 replaced). The row is locked before this runs, so a
-- transaction adding recipients to it has committed by then, and its rows are seen.
CREATE OR REPLACE FUNCTION campaigns_keep_recipients() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM campaign_recipients r WHERE r.campaign_id = OLD.id) THEN
        RAISE EXCEPTION 'campaign % has recipients: kept, and its id too', OLD.id
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'campaign_recipients_campaign';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE OR REPLACE TRIGGER campaigns_keep_recipients BEFORE DELETE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_keep_recipients();
CREATE OR REPLACE TRIGGER campaigns_keep_recipients_id BEFORE UPDATE OF id ON campaigns
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION campaigns_keep_recipients();
