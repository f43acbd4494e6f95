-- botapi_state.sql - the bot's row, made on first need
-- (first created by 014_botapi_updates.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION botapi_state(p_bot bigint) RETURNS botapi_updates
LANGUAGE plpgsql AS $$
DECLARE
    s botapi_updates%ROWTYPE;
BEGIN
    SELECT * INTO s FROM botapi_updates WHERE bot_id = p_bot;
    IF NOT FOUND THEN
        INSERT INTO botapi_updates (bot_id) VALUES (p_bot) ON CONFLICT DO NOTHING;
        SELECT * INTO s FROM botapi_updates WHERE bot_id = p_bot;
    END IF;
    RETURN s;
END $$;
