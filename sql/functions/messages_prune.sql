-- messages_prune.sql - one step of dropping old partitions of messages and
-- message_events; the oldest partitions first, only those whose ids are all given out
-- (the sequence has passed their end). A messages partition goes when none of its
-- messages was created at or after now() - p_messages and none is still open; its
-- events partition goes with it. Before that, its campaign recipients' outcomes are
-- copied onto them (campaign_freeze, a campaign a step), then the rows that refer to
-- its messages elsewhere go in batches of p_batch (callbacks, botapi_answers,
-- botapi_files, events kept in the default partition). An events partition alone goes
-- when none of its events happened at or after now() - p_events. Each test reads the
-- partition's BRIN index on the time, so a partition that is old costs a few pages.
-- Returns what it did ('dropped <name>'; 'outcomes <name>' when it kept campaign
-- outcomes; 'refs <name>' when it deleted referring rows) or NULL when nothing is old.
-- Called by retention_step under its lease, with a lock_timeout set: the parents are
-- locked before any partition (see messages_ahead).
CREATE OR REPLACE FUNCTION messages_prune(p_messages interval, p_events interval,
                                          p_batch integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    last bigint := (SELECT last_value FROM messages_id_seq);
    p record;
    ev text;
    n bigint;
    young boolean;
BEGIN
    FOR p IN SELECT * FROM messages_partitions('messages') LOOP
        EXIT WHEN p.hi > last;
        ev := (SELECT e.name FROM messages_partitions('message_events') e
               WHERE e.lo = p.lo AND e.hi = p.hi);
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE created_at >= $1)'
                       ' OR EXISTS (SELECT 1 FROM %I WHERE status IN'
                       ' (''queued'', ''retrying'', ''sending''))', p.name, p.name)
            INTO young USING now() - p_messages;
        IF NOT young THEN
            IF campaign_freeze(p.lo, p.hi) > 0 THEN -- before any lock: rows of one table
                RETURN 'outcomes ' || p.name;
            END IF;
            LOCK TABLE messages, message_events IN ACCESS EXCLUSIVE MODE; -- see messages_ahead
            n := messages_prune_refs(p.lo, p.hi, p_batch);
            IF n > 0 THEN
                RETURN 'refs ' || p.name;
            END IF;
            IF ev IS NOT NULL THEN
                EXECUTE format('DROP TABLE %I', ev);
            END IF;
            EXECUTE format('ALTER TABLE messages DETACH PARTITION %I', p.name);
            EXECUTE format('DROP TABLE %I', p.name);
            RETURN 'dropped ' || p.name;
        END IF;
        IF ev IS NULL THEN
            CONTINUE;
        END IF;
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE at >= $1)', ev)
            INTO young USING now() - p_events;
        IF young THEN
            RETURN NULL; -- the partitions after it are younger
        END IF;
        LOCK TABLE messages, message_events IN ACCESS EXCLUSIVE MODE;
        EXECUTE format('DROP TABLE %I', ev);
        RETURN 'dropped ' || ev;
    END LOOP;
    RETURN NULL;
END $$;
