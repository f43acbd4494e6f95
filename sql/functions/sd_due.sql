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
-- It asks for the rows in the order of messages_chat_open (050: chat, priority, id), so
-- that with enable_sort off no plan reads them by id from the primary key instead: on
-- statistics of a few chats the planner did, and a new chat's head then read every
-- earlier message of the bot.
--
-- The walk reads at most the first 4n + 64 due rows, a window in index order. A queue
-- held behind a few chats (30,000 messages to 3 channels) made it read them all to find
-- the 3 heads: 130-160 ms a claim, and a lane with held messages claims after every
-- send. The window is a subquery with a LIMIT, and the rows taken from it are locked by
-- id (locked inside it, every held row it passed would be locked too). The window used
-- to be an index range up to its last row, found first: that read 4n + 64 rows for every
-- lane, most lanes then taking their n from the first few (55 % of a claim of 64 lanes
-- asking for 16 each, with 1,000 bots). Sequential scans are off, or the lookup by id
-- reads a partition whole that was empty when the plan was made (the next one, the
-- default). When the window gives fewer than n and the queue goes on past it (looked up
-- only then), the rest are looked for chat by chat (the walk "short"): the bot's open
-- chats in order from the one after afters[k] (where the lane's last such walk stopped;
-- '' or NULL: the first), wrapping round to the first, up to 4n + 64 chats; the first
-- open message of each chat and priority, those whose chat check passes, in priority
-- order. The walk ends with a row of its own, id NULL and chat where the next one should
-- start, for the lane to pass: the last chat walked, or, when the walk found more than
-- it took, the one before the first it took (the heads it left come first next time).
-- Every open chat's turn comes within a few claims. (A random start instead starved
-- chats: with digits as the start, no group's '-100...' id past the first 4n + 64 was
-- reached.)
-- The window keeps the queue's order. OFFSET 0 keeps each step's next chat a subquery
-- run once: pulled up, its lookup ran once for each place it is named (four a step).
-- Hash and merge joins are off too: the chats' heads are few and are looked up by key,
-- where a hash join read the whole table (169 ms with 30,000 queued). So nothing here
-- joins the walk's rows to the lanes: with neither, that join was a nested loop, each
-- lane reading every row the walk took (44 ms of a claim of 64 lanes and 1,130 rows).
-- The walk's rows are counted by lane once (got), and a short lane carries its own
-- (taken), which the chats' heads leave out.
CREATE OR REPLACE FUNCTION sd_due(bot_ids bigint[], ns int[], afters text[])
RETURNS TABLE (k bigint, bot_id bigint, id bigint, chat text)
LANGUAGE plpgsql ROWS 1 SET enable_sort = off SET enable_hashjoin = off SET enable_mergejoin = off
SET enable_seqscan = off SET jit = off SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH r AS (
        SELECT r.bot_id, r.n, r.k, coalesce(r.after, '') AS after
        FROM unnest(bot_ids, ns, afters) WITH ORDINALITY AS r(bot_id, n, after, k)),
    walk AS (
        SELECT r.k, r.bot_id, x.id, x.chat FROM r CROSS JOIN LATERAL (
            SELECT l.id, l.chat FROM (
                SELECT m.id, m.bot_id, m.chat, m.priority FROM messages m
                WHERE m.bot_id = r.bot_id AND m.status IN ('queued', 'retrying')
                  AND m.not_before <= now()
                ORDER BY m.priority, m.id LIMIT 4 * r.n + 64) m
            JOIN messages l ON l.id = m.id
            WHERE (l.status IS NOT DISTINCT FROM 'queued'
                   OR l.status IS NOT DISTINCT FROM 'retrying') AND l.not_before <= now()
              AND (SELECT e.id FROM messages e WHERE e.bot_id = m.bot_id AND e.chat = m.chat
                   AND e.priority <= m.priority AND e.id < m.id
                   AND e.status IN ('queued', 'retrying', 'sending')
                   AND (e.status <> 'queued' OR e.not_before <= now())
                   ORDER BY e.chat, e.priority, e.id LIMIT 1) IS NULL
            ORDER BY m.priority, m.id LIMIT r.n FOR UPDATE OF l SKIP LOCKED) x),
    got AS (SELECT w.k, count(*) AS n, array_agg(w.id) AS ids FROM walk w GROUP BY w.k),
    short AS (
        SELECT r.bot_id, r.k, r.n - coalesce(g.n, 0) AS n, 4 * r.n + 64 AS f, r.after,
               coalesce(g.ids, '{}') AS taken
        FROM r LEFT JOIN got g ON g.k = r.k
        WHERE CASE WHEN coalesce(g.n, 0) < r.n THEN
            (SELECT d.id FROM messages d WHERE d.bot_id = r.bot_id
             AND d.status IN ('queued', 'retrying') AND d.not_before <= now()
             ORDER BY d.priority, d.id OFFSET 4 * r.n + 64 LIMIT 1) IS NOT NULL
            ELSE false END),
    visited AS (
        SELECT s.k, s.bot_id, c.chat, c.i FROM short s CROSS JOIN LATERAL (
            WITH RECURSIVE c(chat, i, lap) AS (
                SELECT s.after, 0, false -- where the last walk stopped: not walked again
                UNION ALL
                SELECT coalesce(a.chat, z.chat), c.i + 1, c.lap OR a.chat IS NULL
                FROM c CROSS JOIN LATERAL (SELECT
                    (SELECT e.chat FROM messages e WHERE e.bot_id = s.bot_id
                     AND e.status IN ('queued', 'retrying', 'sending') AND e.chat > c.chat
                     ORDER BY e.chat LIMIT 1) AS chat OFFSET 0) a
                CROSS JOIN LATERAL (SELECT CASE WHEN a.chat IS NULL AND NOT c.lap THEN
                    (SELECT e.chat FROM messages e WHERE e.bot_id = s.bot_id
                     AND e.status IN ('queued', 'retrying', 'sending')
                     ORDER BY e.chat LIMIT 1) END AS chat) z
                WHERE c.i < s.f AND coalesce(a.chat, z.chat) IS NOT NULL
                  AND NOT ((c.lap OR a.chat IS NULL) AND coalesce(a.chat, z.chat) > s.after))
            SELECT c.chat, c.i FROM c WHERE c.i > 0) c),
    heads AS (
        SELECT c.k, h.id FROM visited c CROSS JOIN unnest(ARRAY[0, 1, 2]::smallint[]) AS p(p)
        CROSS JOIN LATERAL (SELECT e.id FROM messages e WHERE e.bot_id = c.bot_id
            AND e.chat = c.chat AND e.priority = p.p
            AND e.status IN ('queued', 'retrying', 'sending')
            ORDER BY e.chat, e.priority, e.id LIMIT 1) h),
    picked AS (
        SELECT s.k, s.bot_id, y.id, y.chat FROM short s CROSS JOIN LATERAL (
            SELECT m.id, m.chat FROM messages m
            WHERE m.id = ANY (ARRAY(SELECT h.id FROM heads h WHERE h.k = s.k))
              AND (m.status IS NOT DISTINCT FROM 'queued'
                   OR m.status IS NOT DISTINCT FROM 'retrying') AND m.not_before <= now()
              AND m.id <> ALL (s.taken)
              AND (SELECT e.id FROM messages e WHERE e.bot_id = m.bot_id AND e.chat = m.chat
                   AND e.priority <= m.priority AND e.id < m.id
                   AND e.status IN ('queued', 'retrying', 'sending')
                   AND (e.status <> 'queued' OR e.not_before <= now())
                   ORDER BY e.chat, e.priority, e.id LIMIT 1) IS NULL
            ORDER BY m.priority, m.id LIMIT s.n FOR UPDATE OF m SKIP LOCKED) y)
    SELECT w.k, w.bot_id, w.id, w.chat FROM walk w
    UNION ALL
    SELECT p.k, p.bot_id, p.id, p.chat FROM picked p
    UNION ALL
    SELECT s.k, s.bot_id, NULL, CASE
        WHEN (SELECT count(*) FROM picked p WHERE p.k = s.k) < s.n
        THEN (SELECT v.chat FROM visited v WHERE v.k = s.k AND v.i = l.i)
        ELSE coalesce((SELECT v.chat FROM visited v WHERE v.k = s.k
              AND v.i = (SELECT min(x.i) FROM visited x WHERE x.k = s.k AND x.chat = ANY
                         (ARRAY(SELECT p.chat FROM picked p WHERE p.k = s.k))) - 1), s.after) END
    FROM short s CROSS JOIN LATERAL (SELECT max(x.i) AS i FROM visited x WHERE x.k = s.k) l
    WHERE l.i IS NOT NULL;
END $$;
