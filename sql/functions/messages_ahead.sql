-- messages_ahead.sql - make the next partition of messages and of message_events before
-- the ids reach it: once fewer than half a partition's ids (p_size) are left above the
-- last id given. The new one starts where the last ends, or after the largest id that
-- went to the default partition meanwhile (which keeps such rows: nothing is moved).
-- Returns the new partition's name, or NULL when none was needed. Called by the
-- retention pruner (retention_step) under its lease.
CREATE OR REPLACE FUNCTION messages_ahead(p_size bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    last bigint := (SELECT last_value FROM messages_id_seq);
    top bigint := (SELECT max(hi) FROM messages_partitions('messages'));
    lo bigint;
BEGIN
    IF top - last >= p_size / 2 THEN
        RETURN NULL;
    END IF;
    -- the parents first, in the order senderd's claim takes them: a partition's DDL
    -- locks every partition of both (their foreign key), and an insert holds a parent
    -- while it picks a partition
    LOCK TABLE messages, message_events IN ACCESS EXCLUSIVE MODE;
    lo := greatest(top, (SELECT max(id) + 1 FROM messages_default),
                   (SELECT max(message_id) + 1 FROM message_events_default));
    EXECUTE format('CREATE TABLE %I PARTITION OF messages FOR VALUES FROM (%s) TO (%s)'
                   ' WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02,'
                   ' autovacuum_vacuum_cost_delay = 1)', 'messages_p' || lo, lo, lo + p_size);
    EXECUTE format('CREATE TABLE %I PARTITION OF message_events FOR VALUES FROM (%s) TO (%s)',
                   'message_events_p' || lo, lo, lo + p_size);
    EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id)', 'message_events_p' || lo);
    RETURN 'messages_p' || lo;
END $$;
