-- campaign_start.sql - start a draft campaign of the tenant: its audience (campaign_audience,
-- the bots still live) becomes its recipients, each given a message id; its gift, if any,
-- is granted through ledger_apply once per user, keyed by the first campaign of a retry
-- chain (a retry never gifts twice); then every recipient's message is queued at priority
-- bulk, due at start_at (or now), in one INSERT. Returns the campaign's state and
-- recipients, and whether this call started it (false: it was not a draft); no row when
-- the tenant has no such campaign. p_reason goes into the ledger entries.
CREATE OR REPLACE FUNCTION campaign_start(p_campaign bigint, p_tenant bigint, p_reason text)
RETURNS TABLE (state text, recipients integer, started boolean)
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
    IF c.state <> 'draft' THEN
        RETURN QUERY SELECT c.state, c.recipients, false;
        RETURN;
    END IF;
    INSERT INTO campaign_recipients (campaign_id, bot_id, user_id, message_id)
    SELECT c.id, a.bot_id, a.user_id, nextval('messages_id_seq'::regclass)
      FROM campaign_audience(c) a JOIN bots b ON b.id = a.bot_id
       AND b.tenant_id = p_tenant AND b.deleted_at IS NULL
     ORDER BY a.bot_id, a.user_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF c.gift IS NOT NULL THEN
        WITH g AS MATERIALIZED (SELECT r.bot_id, r.user_id, l.entry_id, l.balance
              FROM campaign_recipients r CROSS JOIN LATERAL ledger_apply(r.bot_id, r.user_id,
                   'campaign:' || coalesce(c.root_id, c.id) || ':' || r.user_id, 'gift',
                   c.gift, p_reason => p_reason) l
             WHERE r.campaign_id = c.id)
        UPDATE campaign_recipients r SET ledger_id = g.entry_id, balance = g.balance
          FROM g WHERE r.campaign_id = c.id AND r.bot_id = g.bot_id AND r.user_id = g.user_id;
    END IF;
    INSERT INTO messages (id, tenant_id, bot_id, chat, method, params, priority, not_before,
                          metadata)
    OVERRIDING SYSTEM VALUE
    SELECT r.message_id, c.tenant_id, r.bot_id, r.user_id::text, c.method,
           campaign_params(c.params, u, coalesce(r.balance, u.credits), c.gift), 2,
           greatest(coalesce(c.start_at, now()), now()), jsonb_build_object('campaign_id', c.id)
      FROM campaign_recipients r JOIN bot_users u ON u.bot_id = r.bot_id AND u.user_id = r.user_id
     WHERE r.campaign_id = c.id ORDER BY r.message_id;
    UPDATE campaigns x SET state = 'running', started_at = now(), recipients = n
     WHERE x.id = c.id;
    RETURN QUERY SELECT 'running'::text, n, true;
END $$;
