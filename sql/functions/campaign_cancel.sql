-- campaign_cancel.sql - cancel a campaign of the tenant (a draft, running or paused one):
-- its messages still waiting (queued, held or retrying) are canceled, each with its event
-- and delivery callback, like POST /v1/messages/{id}/cancel; a message claimed already
-- goes out. Returns the state now, how many messages it canceled and whether it
-- canceled (false: it was canceled already); no row when no such campaign.
CREATE OR REPLACE FUNCTION campaign_cancel(p_campaign bigint, p_tenant bigint, p_detail text)
RETURNS TABLE (state text, canceled integer, changed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    c campaigns%ROWTYPE;
    ids bigint[];
BEGIN
    SELECT * INTO c FROM campaigns x WHERE x.id = p_campaign AND x.tenant_id = p_tenant
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF c.state = 'canceled' THEN
        RETURN QUERY SELECT c.state, 0, false;
        RETURN;
    END IF;
    WITH u AS (UPDATE messages m SET status = 'canceled', updated_at = now()
                 FROM campaign_recipients r
                WHERE r.campaign_id = c.id AND m.id = r.message_id
                  AND m.status IN ('queued', 'retrying') RETURNING m.id),
         ev AS (INSERT INTO message_events (message_id, status, detail)
                SELECT u.id, 'canceled', p_detail FROM u)
    SELECT coalesce(array_agg(u.id), '{}') INTO ids FROM u;
    PERFORM queue_callbacks(ids, 'canceled', p_detail);
    UPDATE campaigns x SET state = 'canceled', canceled_at = now() WHERE x.id = c.id;
    RETURN QUERY SELECT 'canceled'::text, cardinality(ids), true;
END $$;
