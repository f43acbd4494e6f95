-- botapi_drop_pending.sql - confirm every update stored so far (drop_pending_updates)
-- (first created by 014_botapi_updates.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION botapi_drop_pending(p_bot bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM botapi_state(p_bot);
    UPDATE botapi_updates
       SET next_update_id = greatest(next_update_id,
             (SELECT coalesce(max(update_id), -1) + 1 FROM tg_updates WHERE bot_id = p_bot))
     WHERE bot_id = p_bot;
END $$;
