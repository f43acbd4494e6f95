-- campaign_recipients_check.sql - trigger: the campaigns of new recipients exist, checked
-- once per statement (migration 040 replaced the foreign key campaign_recipients ->
-- campaigns, whose per-row check was a seventh of a 100,000-recipient start's CPU). Like a
-- foreign key's check it locks each campaign FOR KEY SHARE, so a concurrent delete waits
-- for this transaction and then finds the recipients (campaigns_keep_recipients); a
-- campaign deleted first is not found here. A recipient moved to another campaign is
-- checked the same way, row by row (it never happens: no statement changes campaign_id).
CREATE OR REPLACE FUNCTION campaign_recipients_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    found integer;
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        ids := ARRAY[NEW.campaign_id];
    ELSE
        ids := ARRAY(SELECT DISTINCT n.campaign_id FROM new_rows n);
    END IF;
    SELECT count(*) INTO found
      FROM (SELECT 1 FROM campaigns c WHERE c.id = ANY(ids) FOR KEY SHARE OF c) x;
    IF found < cardinality(ids) THEN
        RAISE EXCEPTION 'a recipient of campaign_recipients names no campaign'
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'campaign_recipients_campaign',
                  DETAIL = format('campaigns %s: not all in table campaigns', ids);
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER campaign_recipients_check AFTER INSERT ON campaign_recipients
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_recipients_check();
CREATE OR REPLACE TRIGGER campaign_recipients_check_update
    AFTER UPDATE OF campaign_id ON campaign_recipients
    FOR EACH ROW WHEN (OLD.campaign_id IS DISTINCT FROM NEW.campaign_id)
    EXECUTE FUNCTION campaign_recipients_check();
