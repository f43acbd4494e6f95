-- queue_message.sql - put one Telegram send of a bot into the outbound queue (the way
-- webhookd and billingd send: replies, the topic bridge, receipts). Its id.
-- (first created by 006_webhookd.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION queue_message(p_bot bigint, p_chat text, p_method text, p_params jsonb,
                              p_priority smallint DEFAULT 0, p_metadata jsonb DEFAULT NULL)
RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO messages (tenant_id, bot_id, chat, method, params, priority, metadata)
    SELECT b.tenant_id, b.id, p_chat, p_method, p_params, p_priority, p_metadata
      FROM bots b WHERE b.id = p_bot
    RETURNING id
$$;
