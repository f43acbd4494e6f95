-- messages_prune_default.sql - one step of pruning the default partition of messages,
-- which holds the messages whose ids no range partition held yet (no gatewayd ran while
-- half a partition's ids were used up, messages_ahead). They go as a partition goes, by
-- the same rules, but row by row, oldest id first: the run of ids from the first one,
-- up to p_batch of them, that ends before the first message created at or after now() -
-- p_messages or still open (so an open message keeps the ones after it, as it keeps its
-- partition). Before the rows go, their campaign recipients' outcomes are copied onto
-- them (campaign_freeze) and the rows that refer to them elsewhere go in batches
-- (messages_prune_refs: callbacks, Bot API answers and files, their events, which live in
-- message_events' default partition). The rows are deleted from the partition itself, so
-- the parent's statement triggers do not run: the counters keep them, as they keep a
-- dropped partition's. Returns what it did ('outcomes messages_default', 'refs
-- messages_default', 'deleted N messages_default') or NULL when nothing is old. Called
-- by retention_step after messages_prune found nothing to drop.
CREATE OR REPLACE FUNCTION messages_prune_default(p_messages interval, p_batch integer)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    lo bigint;
    keeper bigint;
    hi bigint;
    n bigint;
BEGIN
    -- the first p_batch rows by id (the primary key: a step reads its batch, not the
    -- partition), where the first one to keep is
    SELECT min(w.id), min(w.id) FILTER (WHERE w.created_at >= now() - p_messages
               OR w.status IN ('queued', 'retrying', 'sending')), max(w.id) + 1
      INTO lo, keeper, hi
      FROM (SELECT d.id, d.created_at, d.status FROM messages_default d
            ORDER BY d.id LIMIT p_batch) w;
    hi := coalesce(keeper, hi);
    IF lo IS NULL OR hi <= lo THEN
        RETURN NULL;
    END IF;
    IF campaign_freeze(lo, hi) > 0 THEN
        RETURN 'outcomes messages_default';
    END IF;
    IF messages_prune_refs(lo, hi, p_batch) > 0 THEN
        RETURN 'refs messages_default';
    END IF;
    DELETE FROM messages_default WHERE id >= lo AND id < hi
        AND created_at < now() - p_messages AND status NOT IN ('queued', 'retrying', 'sending');
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN format('deleted %s messages_default', n);
END $$;
