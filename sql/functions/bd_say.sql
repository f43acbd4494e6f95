-- bd_say.sql - queue a message from the bot to a chat (high priority), with an optional
-- reply_markup; its id
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_say(p_bot bigint, p_chat bigint, p_text text, p_markup jsonb DEFAULT NULL)
RETURNS bigint LANGUAGE sql AS $$
    SELECT queue_message(p_bot, p_chat::text, 'sendMessage',
                         jsonb_build_object('chat_id', p_chat, 'text', p_text)
                         || CASE WHEN p_markup IS NULL THEN '{}'::jsonb
                                 ELSE jsonb_build_object('reply_markup', p_markup) END,
                         0::smallint, '{"source": "billingd"}'::jsonb)
$$;
