-- botapi_delete_webhook.sql - stop forwarding to the bot's webhook (and confirm every
-- update stored so far when p_drop); true if there was one
-- (first created by 014_botapi_updates.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION botapi_delete_webhook(p_bot bigint, p_drop boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    had boolean := (botapi_state(p_bot)).webhook_url IS NOT NULL;
BEGIN
    IF p_drop THEN
        PERFORM botapi_drop_pending(p_bot);
    END IF;
    IF had THEN
        UPDATE botapi_updates SET webhook_url = NULL, webhook_secret = NULL,
               webhook_error_at = NULL, webhook_error = NULL, webhook_set_at = NULL
         WHERE bot_id = p_bot;
    END IF;
    RETURN had;
END $$;
