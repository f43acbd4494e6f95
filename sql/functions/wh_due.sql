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
-- join the planner may misjudge; it asks for that index's order, so that with sorts off
-- no plan scans the table instead (statistics of a few chats made it a Seq Scan).
--
-- The walk reads at most 4n + 64 unprocessed updates (the bound is found first, in seq
-- order). A backlog of a few busy chats (a big group's messages while webhookd was
-- down) made it read every waiting update of those chats to find their oldest: 20,000
-- updates in 2 chats, 73-95 ms a claim of 2, for each of the 10,000 claims the backlog
-- took. When the window gives fewer than n and the backlog goes on past it, the rest
-- are found chat by chat (the walk "short"): from the chat of a random waiting update
-- (a quarter of the time the first chat), up to 4n + 64 chats in (bot, chat) order,
-- the oldest unprocessed update of each, unclaimed, oldest first. An update of no chat
-- beyond the window waits for the window to reach it. Hash and merge joins are off for
-- the same reason as in sd_due.sql: the chats' oldest updates are looked up by key.
CREATE OR REPLACE FUNCTION wh_due(n int)
RETURNS TABLE (seq bigint)
LANGUAGE plpgsql ROWS 1 SET enable_sort = off SET enable_hashjoin = off
SET enable_mergejoin = off SET jit = off SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH bound AS (
        SELECT (SELECT t.seq FROM tg_updates t WHERE t.processed_at IS NULL
                  AND t.outcome IS NULL ORDER BY t.seq OFFSET 4 * n + 64 LIMIT 1) AS b),
    walk AS (
        SELECT p.seq FROM tg_updates p
        WHERE p.processed_at IS NULL AND p.outcome IS NULL
          AND p.seq <= coalesce((SELECT b FROM bound), 9223372036854775807)
          AND (p.claimed_until IS NULL OR p.claimed_until < now())
          AND (p.chat_id IS NULL OR (SELECT q.seq FROM tg_updates q
               WHERE q.bot_id = p.bot_id AND q.chat_id = p.chat_id AND q.processed_at IS NULL
                 AND q.seq < p.seq ORDER BY q.bot_id, q.chat_id, q.seq LIMIT 1) IS NULL)
        ORDER BY p.seq LIMIT n FOR UPDATE OF p SKIP LOCKED),
    short AS (
        SELECT n - (SELECT count(*) FROM walk) AS k, 4 * n + 64 AS f,
            coalesce(st.bot_id, 0) AS b0, coalesce(st.chat_id, 0) AS c0
        FROM bound LEFT JOIN LATERAL (SELECT t.bot_id, t.chat_id FROM tg_updates t
            WHERE t.processed_at IS NULL AND t.outcome IS NULL AND t.chat_id IS NOT NULL
              AND t.seq >= (SELECT CASE WHEN random() < 0.25 THEN 0 ELSE
                  (random() * (SELECT max(m.seq) FROM tg_updates m
                               WHERE m.processed_at IS NULL AND m.outcome IS NULL))::bigint END)
            ORDER BY t.seq LIMIT 1) st ON true
        WHERE bound.b IS NOT NULL AND (SELECT count(*) FROM walk) < n)
    SELECT w.seq FROM walk w
    UNION ALL
    SELECT y.seq FROM short s CROSS JOIN LATERAL (
        SELECT p.seq FROM tg_updates p
        WHERE p.seq = ANY (ARRAY(
            WITH RECURSIVE c(bot_id, chat_id, i) AS (
                SELECT x.bot_id, x.chat_id, 1 FROM (SELECT t.bot_id, t.chat_id
                    FROM tg_updates t WHERE t.processed_at IS NULL AND t.chat_id IS NOT NULL
                    AND (t.bot_id, t.chat_id) >= (s.b0, s.c0)
                    ORDER BY t.bot_id, t.chat_id LIMIT 1) x
                UNION ALL
                SELECT x.bot_id, x.chat_id, c.i + 1 FROM c CROSS JOIN LATERAL (
                    SELECT t.bot_id, t.chat_id FROM tg_updates t
                    WHERE t.processed_at IS NULL AND t.chat_id IS NOT NULL
                      AND (t.bot_id, t.chat_id) > (c.bot_id, c.chat_id)
                    ORDER BY t.bot_id, t.chat_id LIMIT 1) x
                WHERE c.i < s.f)
            SELECT h.seq FROM c CROSS JOIN LATERAL (SELECT t.seq FROM tg_updates t
                WHERE t.processed_at IS NULL AND t.bot_id = c.bot_id AND t.chat_id = c.chat_id
                ORDER BY t.bot_id, t.chat_id, t.seq LIMIT 1) h))
          AND p.processed_at IS NOT DISTINCT FROM NULL AND p.outcome IS NOT DISTINCT FROM NULL
          AND (p.claimed_until IS NULL OR p.claimed_until < now())
          AND p.seq NOT IN (SELECT w.seq FROM walk w)
        ORDER BY p.seq LIMIT s.k FOR UPDATE OF p SKIP LOCKED) y;
END $$;
