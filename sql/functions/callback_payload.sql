-- callback_payload.sql - the JSON a delivery callback carries for a message's new status
-- (docs/api.md, "Delivery callbacks"): the one copy, used by senderd's transitions
-- (senderd/record.c) and by queue_callbacks (gatewayd's cancels)
CREATE OR REPLACE FUNCTION callback_payload(p_id bigint, p_bot bigint, p_chat text,
                                            p_status text, p_tg_id bigint, p_detail text,
                                            p_attempts integer, p_metadata jsonb) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('type', 'message.' || p_status, 'timestamp', now(),
        'data', json_build_object('id', p_id, 'bot_id', p_bot, 'chat_id', p_chat,
            'status', p_status, 'telegram_message_id', p_tg_id, 'detail', p_detail,
            'attempts', p_attempts, 'metadata', p_metadata))
$$;
