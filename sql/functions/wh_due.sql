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
-- are found chat by chat (the walk "short"): from the chat after (after_bot,
-- after_chat), where the caller's last such walk stopped ((0, 0): the first), wrapping
-- round to the first, up to 4n + 64 chats in (bot, chat) order, the oldest unprocessed
-- update of each, unclaimed, oldest first. The walk ends with a row of its own, seq NULL
-- and the chat where the next one should start (as sd_due.sql says): every waiting
-- chat's turn comes within a few claims. (It started at the chat of a random waiting
-- update, mostly one of the busy chats, so chats far from them waited for the backlog.)
-- An update of no chat beyond the window waits for the window to reach it. Hash and merge joins are off for
-- the same reason as in sd_due.sql: the chats' oldest updates are looked up by key.
CREATE OR REPLACE FUNCTION wh_due(n int, after_bot bigint, after_chat bigint)
RETURNS TABLE (seq bigint, bot_id bigint, chat_id bigint)
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
            coalesce(after_bot, 0) AS b0, coalesce(after_chat, 0) AS c0
        FROM bound WHERE bound.b IS NOT NULL AND (SELECT count(*) FROM walk) < n),
    visited AS (
        SELECT c.bot_id, c.chat_id, c.i FROM short s CROSS JOIN LATERAL (
            WITH RECURSIVE c(bot_id, chat_id, i, lap) AS (
                SELECT s.b0::bigint, s.c0::bigint, 0, false -- where the last walk stopped
                UNION ALL
                SELECT coalesce(a.bot_id, z.bot_id), coalesce(a.chat_id, z.chat_id), c.i + 1,
                    c.lap OR a.bot_id IS NULL
                FROM c LEFT JOIN LATERAL (SELECT t.bot_id, t.chat_id FROM tg_updates t
                    WHERE t.processed_at IS NULL AND t.chat_id IS NOT NULL
                    AND (t.bot_id, t.chat_id) > (c.bot_id, c.chat_id)
                    ORDER BY t.bot_id, t.chat_id LIMIT 1) a ON true
                LEFT JOIN LATERAL (SELECT t.bot_id, t.chat_id FROM tg_updates t
                    WHERE a.bot_id IS NULL AND NOT c.lap AND t.processed_at IS NULL
                    AND t.chat_id IS NOT NULL ORDER BY t.bot_id, t.chat_id LIMIT 1) z ON true
                WHERE c.i < s.f AND coalesce(a.bot_id, z.bot_id) IS NOT NULL
                  AND NOT ((c.lap OR a.bot_id IS NULL) AND (coalesce(a.bot_id, z.bot_id),
                      coalesce(a.chat_id, z.chat_id)) > (s.b0, s.c0)))
            SELECT c.bot_id, c.chat_id, c.i FROM c WHERE c.i > 0) c),
    picked AS (
        SELECT y.seq, y.bot_id, y.chat_id FROM short s CROSS JOIN LATERAL (
            SELECT p.seq, p.bot_id, p.chat_id FROM tg_updates p
            WHERE p.seq = ANY (ARRAY(SELECT h.seq FROM visited c CROSS JOIN LATERAL (
                    SELECT t.seq FROM tg_updates t WHERE t.processed_at IS NULL
                    AND t.bot_id = c.bot_id AND t.chat_id = c.chat_id
                    ORDER BY t.bot_id, t.chat_id, t.seq LIMIT 1) h))
              AND p.processed_at IS NOT DISTINCT FROM NULL AND p.outcome IS NOT DISTINCT FROM NULL
              AND (p.claimed_until IS NULL OR p.claimed_until < now())
              AND p.seq NOT IN (SELECT w.seq FROM walk w)
            ORDER BY p.seq LIMIT s.k FOR UPDATE OF p SKIP LOCKED) y)
    SELECT w.seq, NULL::bigint, NULL::bigint FROM walk w
    UNION ALL
    SELECT p.seq, p.bot_id, p.chat_id FROM picked p
    UNION ALL
    SELECT NULL, v.bot_id, v.chat_id FROM short s
    CROSS JOIN LATERAL (SELECT max(x.i) AS i FROM visited x) l
    CROSS JOIN LATERAL (SELECT CASE WHEN (SELECT count(*) FROM picked) < s.k THEN l.i
        ELSE (SELECT min(x.i) FROM visited x WHERE (x.bot_id, x.chat_id) = ANY
              (ARRAY(SELECT row(p.bot_id, p.chat_id) FROM picked p))) - 1 END AS i) e
    LEFT JOIN visited v ON v.i = e.i
    WHERE l.i IS NOT NULL;
END $$;
