-- retention_step.sql - one step of the retention pruner (gatewayd/retention.c), one
-- transaction: take or keep the cluster's pruner lease for p_owner (for p_lease), then do
-- the first thing due, in this order: make the next partition of messages ahead
-- (messages_ahead, partitions of p_size ids), drop an old partition (messages_prune),
-- delete a batch of old messages of the default partition (messages_prune_default),
-- delete one batch of p_batch old rows of a small table (retention_delete). p_keep gives
-- each kind's time kept in seconds, 0 meaning for ever: messages, events, idempotency,
-- tg_updates, stripe_events, callbacks, sessions, inbox. Returns 'busy' (another instance
-- holds the lease: it does nothing), 'idle' (nothing due) or what it did, for the log.
-- Waits at most 500 ms for a table's lock (meanwhile new messages wait behind it): a lock
-- not had raises, and the next run retries. That is under PostgreSQL's deadlock_timeout
-- (1 s), so when a reader holding message_events waits for messages (gatewayd's event
-- stream reads them in that order) this step gives way, not the reader.
CREATE OR REPLACE FUNCTION retention_step(p_owner text, p_lease interval, p_size bigint,
                                          p_batch integer, p_keep jsonb) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    forever constant interval := interval '1000 years';
    kind text;
    keep interval;
    done text;
    n bigint;
BEGIN
    UPDATE retention_lease SET owner = p_owner, until = now() + p_lease
        WHERE name = 'pruner' AND (owner = p_owner OR until < now());
    IF NOT FOUND THEN
        RETURN 'busy';
    END IF;
    PERFORM set_config('lock_timeout', '500ms', true);
    done := messages_ahead(p_size);
    IF done IS NOT NULL THEN
        RETURN 'created ' || done;
    END IF;
    IF (p_keep->>'messages')::bigint > 0 OR (p_keep->>'events')::bigint > 0 THEN
        done := messages_prune(
            coalesce(nullif((p_keep->>'messages')::bigint, 0) * interval '1 second', forever),
            coalesce(nullif((p_keep->>'events')::bigint, 0) * interval '1 second', forever),
            p_batch);
        IF done IS NOT NULL THEN
            RETURN done;
        END IF;
    END IF;
    IF (p_keep->>'messages')::bigint > 0 THEN
        done := messages_prune_default((p_keep->>'messages')::bigint * interval '1 second',
                                       p_batch);
        IF done IS NOT NULL THEN
            RETURN done;
        END IF;
    END IF;
    FOREACH kind IN ARRAY ARRAY['idempotency', 'tg_updates', 'stripe_events', 'callbacks',
                                'sessions', 'inbox'] LOOP
        keep := (p_keep->>kind)::bigint * interval '1 second';
        CONTINUE WHEN keep IS NULL OR keep <= interval '0';
        n := retention_delete(kind, keep, p_batch);
        IF n > 0 THEN
            RETURN format('deleted %s %s', n, kind);
        END IF;
    END LOOP;
    RETURN 'idle';
END $$;
