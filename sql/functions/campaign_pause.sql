-- campaign_pause.sql - pause a running campaign of the tenant: its messages still waiting
-- (queued, or retrying: given back to queued with an event) are held, due at the far
-- PAUSED time that no claim reaches, until campaign_resume. A message a senderd has
-- claimed ('sending') goes out if its request does; its due time is moved too (its status
-- is senderd's), so one a stopping senderd gives back unsent is held as well. Nothing is
-- lost or made twice: the rows stay. Returns the state now, how many messages it held
-- and whether it paused (false: it was not running); no row when no such campaign.
CREATE OR REPLACE FUNCTION campaign_pause(p_campaign bigint, p_tenant bigint, p_detail text)
RETURNS TABLE (state text, held integer, changed boolean)
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
    IF c.state <> 'running' THEN
        RETURN QUERY SELECT c.state, 0, false;
        RETURN;
    END IF;
    WITH t AS (SELECT m.id, m.status FROM campaign_recipients r JOIN messages m
                 ON m.id = r.message_id
                WHERE r.campaign_id = c.id AND m.status IN ('queued', 'retrying')
                  FOR UPDATE OF m),
         u AS (UPDATE messages m SET status = 'queued', not_before = '9999-12-31 00:00+00',
                      updated_at = now()
                 FROM t WHERE m.id = t.id RETURNING m.id),
         ev AS (INSERT INTO message_events (message_id, status, detail)
                SELECT t.id, 'queued', p_detail FROM t WHERE t.status = 'retrying')
    SELECT count(*) INTO n FROM u;
    UPDATE messages m SET not_before = '9999-12-31 00:00+00'
      FROM campaign_recipients r
     WHERE r.campaign_id = c.id AND m.id = r.message_id AND m.status = 'sending';
    UPDATE campaigns x SET state = 'paused', paused_at = now() WHERE x.id = c.id;
    RETURN QUERY SELECT 'paused'::text, n, true;
END $$;
