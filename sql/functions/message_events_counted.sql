-- message_events_counted.sql - trigger: 429 events counted per bot and minute
-- (first created by 009_counters.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION message_events_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s smallint := pg_backend_pid() % 64;
BEGIN
    INSERT INTO bot_flood_minutes AS c (bot_id, t, shard, n)
        SELECT m.bot_id, date_trunc('minute', m.created_at), s, count(*)
        FROM new_rows e JOIN messages m ON m.id = e.message_id
        WHERE e.detail LIKE '429%' GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (bot_id, t, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;
