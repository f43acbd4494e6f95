-- retention_delete.sql - one batch (at most p_batch rows) of the small tables' old rows:
-- p_what names the table and its rule; p_keep is how long its rows are kept. Each
-- batch reads an index range or the oldest p_batch rows, so its cost does not grow
-- with the table: a row that must stay (not yet processed) is stepped over, never waited
-- for. Returns how many rows went (0: nothing old left in reach). Called by
-- retention_step.
--   idempotency    message_keys older than p_keep: the key may be used again
--   tg_updates     Telegram updates received before, processed, billingd done with them
--   stripe_events  Stripe events received before and processed
--   callbacks      delivery callbacks delivered or failed, created before
--   sessions       dashboard sessions revoked, or not seen, since before
--   inbox          the inbox's timeline items (messages, events, notes) from before
CREATE OR REPLACE FUNCTION retention_delete(p_what text, p_keep interval, p_batch integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    cut timestamptz := now() - p_keep;
    n bigint;
BEGIN
    CASE p_what
    WHEN 'idempotency' THEN
        DELETE FROM message_keys k USING (SELECT tenant_id, idempotency_key FROM message_keys
            WHERE created_at < cut ORDER BY created_at LIMIT p_batch) o
        WHERE k.tenant_id = o.tenant_id AND k.idempotency_key = o.idempotency_key;
    WHEN 'tg_updates' THEN
        DELETE FROM tg_updates WHERE seq IN (SELECT seq FROM (SELECT * FROM tg_updates
            ORDER BY seq LIMIT p_batch) o WHERE received_at < cut AND processed_at IS NOT NULL
            AND (billing_at IS NULL OR billing_done_at IS NOT NULL));
    WHEN 'stripe_events' THEN
        DELETE FROM stripe_events WHERE id IN (SELECT id FROM stripe_events
            WHERE received_at < cut AND processed_at IS NOT NULL
            ORDER BY received_at LIMIT p_batch);
    WHEN 'callbacks' THEN
        DELETE FROM callbacks WHERE id IN (SELECT id FROM (SELECT * FROM callbacks
            ORDER BY id LIMIT p_batch) o WHERE created_at < cut AND status <> 'pending');
    WHEN 'sessions' THEN
        DELETE FROM sessions WHERE id IN (SELECT id FROM sessions
            WHERE coalesce(revoked_at, last_seen_at) < cut LIMIT p_batch);
    WHEN 'inbox' THEN
        DELETE FROM conversation_items WHERE id IN (SELECT id FROM (SELECT id, at
            FROM conversation_items ORDER BY id LIMIT p_batch) o WHERE at < cut);
    ELSE
        RAISE EXCEPTION 'retention_delete: unknown kind %', p_what;
    END CASE;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
