-- 027_partitions.sql - messages and message_events become partitioned tables, by ranges
-- of message id, so that the retention pruner drops old partitions whole instead of
-- deleting rows (docs/operations.md, "Retention").
--
-- Why by id and not by time: the primary key messages(id) and every foreign key to it
-- (message_events, callbacks, botapi_answers, botapi_files) keep working, since a
-- partitioned table's unique keys must contain its partition key; a read or a claim by
-- id goes to one partition. The pruner maps a time to ids: a partition is old when none
-- of its rows was created (or, for events, happened) after the cut-off.
--
-- The unique index on (tenant_id, idempotency_key) cannot live on a table partitioned by
-- id, so idempotency keys move to their own small table, message_keys, which gatewayd's
-- accept statement inserts into first (ON CONFLICT DO NOTHING) and the pruner empties
-- after [retention] idempotency_hours.
--
-- The existing tables are not copied: each is renamed and attached whole as the first
-- partition (messages_p0, message_events_p0: every id below the next multiple of ten
-- million). Its indexes become the partitioned indexes' partitions and its rows stay
-- where they are. What costs time is reading the tables: the partition bound checked
-- on each, the foreign key from events to messages checked, the BRIN time indexes built,
-- the live idempotency keys copied. Measured with bench/history.sql's 10 million sent
-- messages and 20 million events (6 GB; PostgreSQL 15 on 2 cores shared with other
-- work, load average 10 to 19): 56 to 83 seconds in all (keys 5 s, partitions and
-- foreign keys 35-47 s, BRIN indexes 28 s); an idle machine takes less. The tables
-- are locked meanwhile: stop the daemons first (docs/operations.md, "Retention").
-- Then one partition of ten million ids ahead, and a default partition that catches
-- any id no partition holds yet (gatewayd makes the next partitions ahead of time).

-- 1. idempotency keys in a table of their own
CREATE TABLE message_keys (
    tenant_id        bigint NOT NULL,
    idempotency_key  text NOT NULL,
    message_id       bigint NOT NULL,
    request_hash     bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX message_keys_created ON message_keys (created_at);
INSERT INTO message_keys (tenant_id, idempotency_key, message_id, request_hash, created_at)
    SELECT tenant_id, idempotency_key, id, request_hash, created_at
    FROM messages WHERE idempotency_key IS NOT NULL;
DROP INDEX messages_idempotency;

-- the pruner removes a partition's callbacks before the partition: found by message
CREATE INDEX callbacks_message ON callbacks (message_id);
-- and walks the processed Stripe events by age (retention_walk)
CREATE INDEX stripe_events_received ON stripe_events (received_at);

-- 2. the partitioned tables, each with its old table attached as partition p0
DO $$
DECLARE
    size constant bigint := 10000000;
    last bigint := (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END
                    FROM messages_id_seq);
    ev_last bigint := (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END
                       FROM message_events_id_seq);
    hi bigint := (greatest(last, 0) / size + 1) * size;
    fk record;
    t text;
    x record;
BEGIN
    -- the foreign keys to messages are made again on the partitioned table
    CREATE TEMP TABLE fks ON COMMIT DROP AS
        SELECT conrelid::regclass::text AS tab, conname,
               pg_get_constraintdef(oid) AS def
        FROM pg_constraint WHERE contype = 'f' AND confrelid = 'messages'::regclass;
    FOR fk IN SELECT * FROM fks LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tab, fk.conname);
    END LOOP;

    FOREACH t IN ARRAY ARRAY['messages', 'message_events'] LOOP
        EXECUTE format('ALTER TABLE %I RENAME TO %I', t, t || '_p0');
        EXECUTE format('ALTER TABLE %I ALTER COLUMN id DROP IDENTITY', t || '_p0');
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS'
                       ' INCLUDING STORAGE INCLUDING GENERATED INCLUDING COMMENTS)'
                       ' PARTITION BY RANGE (%I)', t, t || '_p0',
                       CASE t WHEN 'messages' THEN 'id' ELSE 'message_id' END);
        EXECUTE format('ALTER TABLE %I ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY'
                       ' (SEQUENCE NAME %I)', t, t || '_id_seq');
        -- each index of the old table, under its own name, on the partitioned one (the
        -- old table's index is attached to it, not built again); the old primary key of
        -- message_events (id alone) stays a constraint of its partition
        FOR x IN SELECT i.indexrelid::regclass::text AS name,
                        pg_get_indexdef(i.indexrelid) AS def
                 FROM pg_index i WHERE i.indrelid = (t || '_p0')::regclass
                 AND NOT (t = 'message_events' AND i.indisprimary) LOOP
            IF x.name = t || '_pkey' THEN
                EXECUTE format('ALTER INDEX %I RENAME TO %I', x.name, t || '_p0_pkey');
                EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id)', t);
            ELSE
                EXECUTE format('ALTER INDEX %I RENAME TO %I', x.name, x.name || '_p0');
                EXECUTE replace(x.def, ' ON public.' || t || '_p0 ', ' ON public.' || t || ' ');
            END IF;
        END LOOP;
        -- its own foreign keys (bots, tenants) on the parent: the old ones are reused
        FOR x IN SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
                 WHERE contype = 'f' AND conrelid = (t || '_p0')::regclass LOOP
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', t, x.conname, x.def);
        END LOOP;
        -- the counters' statement triggers fire on the partitioned table
        FOR x IN SELECT tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger
                 WHERE tgrelid = (t || '_p0')::regclass AND NOT tgisinternal LOOP
            EXECUTE format('DROP TRIGGER %I ON %I', x.tgname, t || '_p0');
            EXECUTE replace(x.def, ' ON public.' || t || '_p0 ', ' ON public.' || t || ' ');
        END LOOP;
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%s)',
                       t, t || '_p0', hi);
        -- the partitioned indexes made above are attached, not ON ONLY any more
        FOR x IN SELECT i.indexrelid AS idx FROM pg_index i
                 WHERE i.indrelid = t::regclass AND NOT i.indisvalid LOOP
            RAISE EXCEPTION 'index % of % has no partition index', x.idx::regclass, t;
        END LOOP;
    END LOOP;
    PERFORM setval('messages_id_seq', greatest(last, 1), last > 0);
    PERFORM setval('message_events_id_seq', greatest(ev_last, 1), ev_last > 0);

    -- the next partition ahead, and the default partitions
    EXECUTE format('CREATE TABLE %I PARTITION OF messages FOR VALUES FROM (%s) TO (%s)'
                   ' WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02,'
                   ' autovacuum_vacuum_cost_delay = 1)', 'messages_p' || hi, hi, hi + size);
    EXECUTE format('CREATE TABLE %I PARTITION OF message_events FOR VALUES FROM (%s) TO (%s)',
                   'message_events_p' || hi, hi, hi + size);
    EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (id)', 'message_events_p' || hi);
    CREATE TABLE messages_default PARTITION OF messages DEFAULT
        WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02,
              autovacuum_vacuum_cost_delay = 1);
    CREATE TABLE message_events_default PARTITION OF message_events DEFAULT;
    ALTER TABLE message_events_default ADD PRIMARY KEY (id);

    -- the foreign keys to messages, now to the partitioned table
    FOR fk IN SELECT * FROM fks LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.tab, fk.conname, fk.def);
    END LOOP;
END $$;

-- which partition is old: the time of its rows, read through small BRIN indexes (ids and
-- times grow together, so a block range of an old partition holds old times only)
CREATE INDEX messages_created_brin ON messages USING brin (created_at);
CREATE INDEX message_events_at_brin ON message_events USING brin (at);

-- one pruner at a time in the whole cluster: the instance holding this lease
CREATE TABLE retention_lease (
    name    text PRIMARY KEY,
    owner   text NOT NULL,
    until   timestamptz NOT NULL
);
INSERT INTO retention_lease (name, owner, until) VALUES ('pruner', '', '-infinity');
