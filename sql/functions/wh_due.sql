-- wh_due.sql - webhookd's claim (webhookd/process.c) takes its updates here: the n
-- oldest unprocessed and unclaimed ones, each unless its chat has an older update still
-- unprocessed, locked (SKIP LOCKED: another claim's rows are passed over).
--
-- A function for the reason of sd_due.sql: enable_sort = off. Statistics are mostly
-- taken with nothing queued, so a backlog that comes later is estimated at a row or
-- two, and on a table of some history the planner then read every unprocessed update
-- from tg_updates_pending and sorted them all rather than walk tg_updates_todo in seq
-- order and stop at n: 24 ms a claim of 64 with 6,000 queued after 80,000 processed
-- (every update checked for its chat), a cost that grew with the backlog and took a
-- third of processing's time. SET on the function scopes the setting to this query
-- (a transaction pooler keeps no session settings); plpgsql, so its plan is cached
-- per connection, a generic one. ROWS 1: the claim then updates its rows by key.
--
-- The chat check sits under an OR, so it is a subplan run per update with its bot,
-- chat and seq as the keys of tg_updates_pending (sql/047_tg_updates_todo.sql), never a
-- join the planner may misjudge.
CREATE OR REPLACE FUNCTION wh_due(n int)
RETURNS TABLE (seq bigint)
LANGUAGE plpgsql ROWS 1 SET enable_sort = off SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT p.seq FROM tg_updates p
    WHERE p.processed_at IS NULL AND p.outcome IS NULL
      AND (p.claimed_until IS NULL OR p.claimed_until < now())
      AND (p.chat_id IS NULL OR NOT EXISTS (SELECT 1 FROM tg_updates q
           WHERE q.bot_id = p.bot_id AND q.chat_id = p.chat_id AND q.processed_at IS NULL
             AND q.seq < p.seq))
    ORDER BY p.seq LIMIT n FOR UPDATE OF p SKIP LOCKED;
END $$;
