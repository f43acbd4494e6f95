-- tg_updates_counted.sql - trigger: stored updates counted per bot and hour of receipt
-- (bot_inbound_hours, 030); webhookd's own tgm_* updates are not counted. The trigger
-- is created here, with its function.
CREATE OR REPLACE FUNCTION tg_updates_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bot_inbound_hours AS c (bot_id, t, shard, n)
        SELECT u.bot_id, date_trunc('hour', u.received_at), pg_backend_pid() % 64, count(*)
        FROM new_rows u WHERE u.kind NOT LIKE 'tgm\_%' GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (bot_id, t, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER tg_updates_counted AFTER INSERT ON tg_updates
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tg_updates_counted();
