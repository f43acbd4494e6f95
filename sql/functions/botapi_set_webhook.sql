-- botapi_set_webhook.sql - forward the bot's updates to p_url from now on, with
-- p_secret as X-Telegram-Bot-Api-Secret-Token; p_allowed as in getUpdates; p_drop
-- confirms every update stored so far
-- (first created by 014_botapi_updates.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION botapi_set_webhook(p_bot bigint, p_url text, p_secret text,
                                   p_allowed text[], p_drop boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM botapi_state(p_bot);
    IF p_drop THEN
        PERFORM botapi_drop_pending(p_bot);
    END IF;
    UPDATE botapi_updates
       SET webhook_url = p_url, webhook_secret = p_secret,
           allowed_updates = coalesce(p_allowed, allowed_updates),
           webhook_error_at = CASE WHEN webhook_url IS DISTINCT FROM p_url THEN NULL
                                   ELSE webhook_error_at END,
           webhook_error = CASE WHEN webhook_url IS DISTINCT FROM p_url THEN NULL
                                ELSE webhook_error END,
           webhook_set_at = now()
     WHERE bot_id = p_bot;
    PERFORM pg_notify('tgm_botapi_webhooks', p_bot::text);
END $$;
