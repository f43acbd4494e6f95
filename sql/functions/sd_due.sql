-- sd_due.sql - senderd's claim takes its candidates here: for each lane (bot_ids[k],
-- ns[k] at most), its due messages in priority order whose chat has no earlier message
-- still open, locked (SKIP LOCKED: another claim's rows are passed over).
--
-- A function for one reason: enable_sort = off. A live system's statistics are mostly
-- taken with nothing queued, so a backlog that comes later is estimated at a few rows,
-- and the planner then reads the bot's whole due queue and sorts it rather than merge
-- the partitions' index order and stop at n: 0.28 s a claim over 50,000 queued instead
-- of 3 ms, for as long as the statistics stay stale (a big partition's autoanalyze waits
-- for a tenth of its rows to change). SET on the function scopes the setting to this
-- query (a transaction pooler keeps no session settings), and keeps it off the triggers
-- of the claim's UPDATE, which it would make seconds slower. plpgsql, so the plan is
-- cached per connection, and a generic one: the planner priced the generic plan above
-- the custom ones and planned the query afresh at every call, most of a small claim's
-- time (a claim of 1 message: 1.5 ms with custom plans, 0.6 with the generic one; of
-- 32: 3.4-5.3 ms and 2.0-3.4; the claim before this function: 2.7-5.2 and 4.9-8.0).
-- ROWS 1: a claim's rows are then looked up one by one by key (messages by id, chats by
-- chat); with ROWS 50 the claim's UPDATE hashed a whole scan of a small messages table,
-- which grew with every message sent until the planner changed its mind.
--
-- The chat check is a scalar subquery: as a bare NOT EXISTS it may become an anti-join
-- that walks the whole queue for every candidate (215 s for one claim on such statistics).
CREATE OR REPLACE FUNCTION sd_due(bot_ids bigint[], ns int[])
RETURNS TABLE (k bigint, bot_id bigint, id bigint, chat text)
LANGUAGE plpgsql ROWS 1 SET enable_sort = off SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT r.k, r.bot_id, x.id, x.chat
    FROM unnest(bot_ids, ns) WITH ORDINALITY AS r(bot_id, n, k)
    CROSS JOIN LATERAL (
        SELECT m.id, m.chat FROM messages m
        WHERE m.bot_id = r.bot_id AND m.status IN ('queued', 'retrying')
          AND m.not_before <= now()
          AND (SELECT NOT EXISTS (SELECT 1 FROM messages e WHERE e.bot_id = m.bot_id
               AND e.chat = m.chat AND e.id < m.id
               AND e.status IN ('queued', 'retrying', 'sending')
               AND (e.status <> 'queued' OR e.not_before <= now())
               AND e.priority <= m.priority))
        ORDER BY m.priority, m.id LIMIT r.n FOR UPDATE OF m SKIP LOCKED) x;
END $$;
