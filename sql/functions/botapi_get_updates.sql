-- botapi_get_updates.sql - getUpdates: confirm the updates below p_offset (a negative
-- offset keeps only the last -p_offset of the wanted kinds), remember p_allowed unless NULL, and return
-- the first p_limit unconfirmed updates of the last 24 hours that the bot wants, as
-- a JSON array of the stored Update objects; NULL while the bot has a webhook of its
-- own (Telegram's 409). Writes only when something changes.
-- (first created by 014_botapi_updates.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION botapi_get_updates(p_bot bigint, p_offset bigint, p_limit integer,
                                   p_allowed text[])
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    s botapi_updates%ROWTYPE := botapi_state(p_bot);
    v_out text;
BEGIN
    IF s.webhook_url IS NOT NULL THEN
        RETURN NULL;
    END IF;
    IF p_offset < 0 THEN
        SELECT coalesce(min(update_id), s.next_update_id) INTO p_offset
          FROM (SELECT update_id FROM tg_updates
                 WHERE bot_id = p_bot AND update_id >= s.next_update_id
                   AND received_at > now() - interval '24 hours'
                   AND botapi_wanted(kind, coalesce(p_allowed, s.allowed_updates))
                 ORDER BY update_id DESC LIMIT -p_offset) t;
    END IF;
    IF p_offset > s.next_update_id
       OR (p_allowed IS NOT NULL AND p_allowed IS DISTINCT FROM s.allowed_updates) THEN
        UPDATE botapi_updates
           SET next_update_id = greatest(next_update_id, p_offset),
               allowed_updates = coalesce(p_allowed, allowed_updates)
         WHERE bot_id = p_bot RETURNING * INTO s;
    END IF;
    SELECT coalesce(json_agg(payload ORDER BY update_id)::text, '[]') INTO v_out
      FROM (SELECT update_id, payload FROM tg_updates
             WHERE bot_id = p_bot AND update_id >= s.next_update_id
               AND received_at > now() - interval '24 hours'
               AND botapi_wanted(kind, s.allowed_updates)
             ORDER BY update_id LIMIT p_limit) t;
    RETURN v_out;
END $$;
