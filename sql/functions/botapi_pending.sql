-- botapi_pending.sql - the updates a bot has not confirmed yet (getWebhookInfo)
-- (first created by 014_botapi_updates.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION botapi_pending(p_bot bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM tg_updates u
      LEFT JOIN botapi_updates s ON s.bot_id = p_bot
     WHERE u.bot_id = p_bot AND u.update_id >= coalesce(s.next_update_id, 0)
       AND u.received_at > now() - interval '24 hours'
       AND botapi_wanted(u.kind, s.allowed_updates)
$$;
