-- campaign_start.sql - start a draft campaign of the tenant: its audience (campaign_audience,
-- the bots still live) becomes its recipients, each given a message id; its gift, if any,
-- is granted through ledger_apply once per user, keyed by the first campaign of a retry
-- chain (a retry never gifts twice: campaign_gift, which made the recipients and granted
-- it in batches before this, as a rule); then every recipient's message is queued at
-- priority bulk, due at start_at (or now). Without a gift, recipients and messages are
-- written by one statement from the audience read once, each row rendered as it is read
-- (the statement keeps ids and parameters, not whole users). The template's strings that
-- hold variables are found once: with one (the usual text or caption) each message is
-- the template plus that string rendered (campaign_render), else campaign_params does
-- it. Returns the
-- campaign's state and recipients, and whether this call started it (false: it was not a
-- draft); no row when the tenant has no such campaign. p_reason goes into the ledger.
CREATE OR REPLACE FUNCTION campaign_start(p_campaign bigint, p_tenant bigint, p_reason text)
RETURNS TABLE (state text, recipients integer, started boolean)
LANGUAGE plpgsql
SET work_mem = '64MB' /* the audience's sort and the new chats' in memory, not on disk */
AS $$
DECLARE
    c campaigns%ROWTYPE;
    n integer;
    vars text[];
    due timestamptz;
    langs jsonb;
    meta jsonb;
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
    vars := ARRAY(SELECT e.key FROM jsonb_each(c.params) e
                   WHERE jsonb_typeof(e.value) = 'string' AND strpos(e.value #>> '{}', '{') > 0);
    due := greatest(coalesce(c.start_at, now()), now());
    meta := jsonb_build_object('campaign_id', c.id);
    IF c.gift IS NULL THEN
        c.params := c.params - 'tgm_texts'; /* a gift's texts (campaign_gift_params) */
        WITH a AS MATERIALIZED (SELECT u.bot_id, u.user_id,
                 nextval('messages_id_seq'::regclass) AS mid,
                 CASE WHEN cardinality(vars) = 0
                      THEN c.params || jsonb_build_object('chat_id', u.user_id)
                      WHEN cardinality(vars) = 1
                      THEN c.params || jsonb_build_object('chat_id', u.user_id, vars[1],
                           campaign_render(c.params->>vars[1], c.params->>'parse_mode',
                               u.user_id, u.first_name, u.last_name, u.username, u.credits,
                               NULL))
                      ELSE campaign_params(c.params, u, u.credits, NULL) END AS params
                 FROM campaign_audience(c) u JOIN bots b ON b.id = u.bot_id
                  AND b.tenant_id = p_tenant AND b.deleted_at IS NULL),
             r AS (INSERT INTO campaign_recipients (campaign_id, bot_id, user_id, message_id)
                   SELECT c.id, a.bot_id, a.user_id, a.mid FROM a)
        INSERT INTO messages (id, tenant_id, bot_id, chat, method, params, priority,
                              not_before, metadata)
        OVERRIDING SYSTEM VALUE
        SELECT a.mid, c.tenant_id, a.bot_id, a.user_id::text, c.method, a.params, 2, due,
               meta
          FROM a;
        GET DIAGNOSTICS n = ROW_COUNT;
    ELSE
        WHILE campaign_gift(c.id, p_tenant, p_reason, 1000) > 0 LOOP
            NULL; /* what POST .../start has not granted in batches before (none, as a rule) */
        END LOOP;
        SELECT count(*) INTO n FROM campaign_recipients r WHERE r.campaign_id = c.id;
        /* a gift's catalog text in each recipient's language (campaign_gift_params) */
        langs := campaign_gift_bots(c.bot_ids);
        INSERT INTO messages (id, tenant_id, bot_id, chat, method, params, priority,
                              not_before, metadata)
        OVERRIDING SYSTEM VALUE
        SELECT r.message_id, c.tenant_id, r.bot_id, r.user_id::text, c.method,
               campaign_params(campaign_gift_params(c.params, u.language_code,
                   langs->r.bot_id::text), u, r.balance, c.gift), 2, due, meta
          FROM campaign_recipients r JOIN bot_users u ON u.bot_id = r.bot_id
           AND u.user_id = r.user_id
         WHERE r.campaign_id = c.id;
    END IF;
    IF n > 10000 THEN /* the report reads it in pages by message_id: plan it by its size */
        ANALYZE campaign_recipients;
    END IF;
    UPDATE campaigns x SET state = 'running', started_at = now(), recipients = n
     WHERE x.id = c.id;
    RETURN QUERY SELECT 'running'::text, n, true;
END $$;
