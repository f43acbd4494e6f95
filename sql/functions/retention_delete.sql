-- retention_delete.sql - one batch (at most p_batch rows) of the small tables' old rows:
-- p_what names the table and its rule; p_keep is how long its rows are kept. Each
-- batch reads an index range, or walks the table from its oldest row up to the first
-- young one (retention_walk), so its cost does not grow with the young part of the
-- table; a row that must stay (not yet processed) is stepped over. Returns how many
-- rows went (0: nothing old left). Called by retention_step.
--   idempotency    message_keys older than p_keep: the key may be used again
--   tg_updates     Telegram updates received before, processed, billingd done with them
--   stripe_events  Stripe events received before and processed
--   callbacks      delivery callbacks delivered or failed, created before
--   sessions       dashboard sessions revoked, or not seen, since before (a small table)
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
        RETURN retention_walk('tg_updates', 'seq', 'seq', 'received_at', 'processed_at IS NOT'
            ' NULL AND (billing_at IS NULL OR billing_done_at IS NOT NULL)', cut, p_batch);
    WHEN 'stripe_events' THEN
        RETURN retention_walk('stripe_events', 'id', 'received_at', 'received_at',
            'processed_at IS NOT NULL', cut, p_batch);
    WHEN 'callbacks' THEN
        RETURN retention_walk('callbacks', 'id', 'id', 'created_at', 'status <> ''pending''',
            cut, p_batch);
    WHEN 'sessions' THEN
        DELETE FROM sessions WHERE id IN (SELECT id FROM sessions
            WHERE coalesce(revoked_at, last_seen_at) < cut LIMIT p_batch);
    WHEN 'inbox' THEN
        RETURN retention_walk('conversation_items', 'id', 'id', 'at', 'true', cut, p_batch);
    ELSE
        RAISE EXCEPTION 'retention_delete: unknown kind %', p_what;
    END CASE;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
