-- bot_active_refresh.sql - count each bot's users last seen in the day, 7 days and 30
-- days before now into bot_active_users (032); gatewayd's janitor calls it every minute.
CREATE OR REPLACE FUNCTION bot_active_refresh() RETURNS void LANGUAGE sql AS $$
    INSERT INTO bot_active_users AS a (bot_id, at, day, week, month)
        SELECT b.id, now(),
            count(u.user_id) FILTER (WHERE u.last_seen_at >= now() - interval '1 day'),
            count(u.user_id) FILTER (WHERE u.last_seen_at >= now() - interval '7 days'),
            count(u.user_id)
        FROM bots b LEFT JOIN bot_users u ON u.bot_id = b.id
            AND u.last_seen_at >= now() - interval '30 days' AND u.last_seen_at < now()
        WHERE b.deleted_at IS NULL
        GROUP BY b.id ORDER BY b.id
    ON CONFLICT (bot_id) DO UPDATE SET at = EXCLUDED.at, day = EXCLUDED.day,
        week = EXCLUDED.week, month = EXCLUDED.month;
$$;
