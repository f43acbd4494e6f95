-- queue_callbacks.sql - queue the delivery callbacks of messages gatewayd canceled
-- (first created by 005_cancel_callbacks.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION queue_callbacks(ids bigint[], new_status text, why text)
RETURNS integer LANGUAGE sql AS $$
    WITH cb AS (
        INSERT INTO callbacks (message_id, tenant_id, url, payload)
        SELECT m.id, m.tenant_id, coalesce(m.callback_url, tn.webhook_url),
               callback_payload(m.id, m.bot_id, m.chat, new_status, m.telegram_message_id,
                                why, m.attempts, m.metadata)
        FROM messages m JOIN tenants tn ON tn.id = m.tenant_id
        WHERE m.id = ANY(ids) AND coalesce(m.callback_url, tn.webhook_url) IS NOT NULL
        RETURNING 1)
    SELECT count(*)::integer FROM cb
$$;
