-- campaign_gift.sql - the gift of a draft campaign, a batch at a time: the first call
-- makes its recipients (its audience now, each given a message id; the campaign stays a
-- draft), then each call grants the gift through ledger_apply (key campaign:<first of
-- its retry chain>:<user>) to up to p_limit recipients that lack it. POST
-- /v1/campaigns/{id}/start calls it, each call its own transaction, until it returns 0,
-- then campaign_start: so a big audience never holds more than p_limit of ledger_apply's
-- advisory locks at once (PostgreSQL's lock table has room for a few thousand). Returns
-- how many it granted; 0 when none is left, or for a campaign without a gift or not a
-- draft.
CREATE OR REPLACE FUNCTION campaign_gift(p_campaign bigint, p_tenant bigint, p_reason text,
                                         p_limit integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    c campaigns%ROWTYPE;
    n integer;
BEGIN
    SELECT * INTO c FROM campaigns x WHERE x.id = p_campaign AND x.tenant_id = p_tenant
       FOR UPDATE;
    IF NOT FOUND OR c.state <> 'draft' OR c.gift IS NULL THEN
        RETURN 0;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM campaign_recipients r WHERE r.campaign_id = c.id) THEN
        INSERT INTO campaign_recipients (campaign_id, bot_id, user_id, message_id)
        SELECT c.id, a.bot_id, a.user_id, nextval('messages_id_seq'::regclass)
          FROM campaign_audience(c) a JOIN bots b ON b.id = a.bot_id
           AND b.tenant_id = p_tenant AND b.deleted_at IS NULL;
    END IF;
    WITH t AS (SELECT r.bot_id, r.user_id FROM campaign_recipients r
                WHERE r.campaign_id = c.id AND r.ledger_id IS NULL LIMIT p_limit),
         g AS MATERIALIZED (SELECT t.bot_id, t.user_id, l.entry_id, l.balance
               FROM t CROSS JOIN LATERAL ledger_apply(t.bot_id, t.user_id,
                    'campaign:' || coalesce(c.root_id, c.id) || ':' || t.user_id, 'gift',
                    c.gift, p_reason => p_reason) l),
         u AS (UPDATE campaign_recipients r SET ledger_id = g.entry_id, balance = g.balance
                 FROM g WHERE r.campaign_id = c.id AND r.bot_id = g.bot_id
                  AND r.user_id = g.user_id RETURNING 1)
    SELECT count(*) INTO n FROM u;
    RETURN n;
END $$;
