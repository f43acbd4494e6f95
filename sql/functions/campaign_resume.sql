-- campaign_resume.sql - resume a paused campaign of the tenant: its held messages fall
-- due again (at start_at if that is still ahead, else now), and so do those claimed
-- during the pause (a senderd may still give them back). Returns the state now, how
-- many messages it released and whether it resumed (false: it was not paused); no row
-- when no such campaign.
CREATE OR REPLACE FUNCTION campaign_resume(p_campaign bigint, p_tenant bigint)
RETURNS TABLE (state text, released integer, changed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    c campaigns%ROWTYPE;
    n integer;
BEGIN
    SELECT * INTO c FROM campaigns x WHERE x.id = p_campaign AND x.tenant_id = p_tenant
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF c.state <> 'paused' THEN
        RETURN QUERY SELECT c.state, 0, false;
        RETURN;
    END IF;
    UPDATE messages m SET not_before = greatest(coalesce(c.start_at, now()), now()),
           updated_at = now()
      FROM campaign_recipients r
     WHERE r.campaign_id = c.id AND m.id = r.message_id AND m.status = 'queued';
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE messages m SET not_before = greatest(coalesce(c.start_at, now()), now())
      FROM campaign_recipients r
     WHERE r.campaign_id = c.id AND m.id = r.message_id AND m.status = 'sending'
       AND m.not_before >= '9999-12-31 00:00+00';
    UPDATE campaigns x SET state = 'running', paused_at = NULL WHERE x.id = c.id;
    RETURN QUERY SELECT 'running'::text, n, true;
END $$;
