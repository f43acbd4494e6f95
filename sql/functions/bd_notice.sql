-- bd_notice.sql - record what billingd is to tell a chat: a notice of the text catalog
-- (common/text.c) by name, with its arguments (numbers, ids, amounts in minor units and
-- their currency); billingd renders it and queues the message (billingd/notice.c), in
-- the order recorded. Its id.
CREATE OR REPLACE FUNCTION bd_notice(p_bot bigint, p_chat bigint, p_name text,
                                     p_args jsonb DEFAULT '{}') RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO billing_outbox (bot_id, chat_id, notice, args)
    VALUES (p_bot, p_chat, p_name, coalesce(p_args, '{}')) RETURNING id
$$;
