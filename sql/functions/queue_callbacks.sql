-- queue_callbacks.sql - queue the delivery callbacks of messages gatewayd canceled
-- (first created by 005_cancel_callbacks.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION queue_callbacks(ids bigint[], new_status text, why text)
RETURNS integer LANGUAGE sql AS $$
    WITH cb AS (
        INSERT INTO callbacks (message_id, tenant_id, url, payload)
        SELECT m.id, m.tenant_id, coalesce(m.callback_url, tn.webhook_url),
               json_build_object('type', 'message.' || new_status, 'timestamp', now(),
                   'data', json_build_object('id', m.id, 'bot_id', m.bot_id,
                       'chat_id', m.chat, 'status', new_status,
                       'telegram_message_id', m.telegram_message_id, 'detail', why,
                       'attempts', m.attempts, 'metadata', m.metadata))
        FROM messages m JOIN tenants tn ON tn.id = m.tenant_id
        WHERE m.id = ANY(ids) AND coalesce(m.callback_url, tn.webhook_url) IS NOT NULL
        RETURNING 1)
    SELECT count(*)::integer FROM cb
$$;
