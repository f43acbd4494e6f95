-- ledger_debits_counted.sql - trigger: credits debited counted per bot and hour
-- (bot_debit_hours, 030). The trigger is created here, with its function.
CREATE OR REPLACE FUNCTION ledger_debits_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bot_debit_hours AS c (bot_id, t, shard, credits)
        SELECT l.bot_id, date_trunc('hour', l.at), pg_backend_pid() % 64, -sum(l.credits)
        FROM new_rows l WHERE l.kind = 'debit' GROUP BY 1, 2 HAVING sum(l.credits) <> 0
        ORDER BY 1, 2
        ON CONFLICT (bot_id, t, shard) DO UPDATE SET credits = c.credits + EXCLUDED.credits;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER ledger_debits_counted AFTER INSERT ON ledger
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_debits_counted();
