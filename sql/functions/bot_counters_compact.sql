-- bot_counters_compact.sql - fold the shards of the status counts and of buckets no longer
-- written (but by late transitions) into shard 0, and drop empty rows and seconds no one reads: readers then
-- sum about one row per key. gatewayd's janitor calls it every minute.
-- (first created by 009_counters.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bot_counters_compact() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM bot_status_counts WHERE n = 0;
    WITH d AS (DELETE FROM bot_status_counts WHERE shard <> 0 RETURNING bot_id, status, n)
    INSERT INTO bot_status_counts AS c (bot_id, status, shard, n)
        SELECT bot_id, status, 0, sum(n) FROM d GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (bot_id, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    DELETE FROM bot_done_seconds WHERE t < now() - interval '2 hours';
    DELETE FROM bot_done_seconds WHERE n = 0 AND t < now() - interval '2 minutes';
    WITH d AS (DELETE FROM bot_done_seconds WHERE shard <> 0
               AND t < now() - interval '2 minutes' RETURNING bot_id, status, t, n)
    INSERT INTO bot_done_seconds AS c (bot_id, status, t, shard, n)
        SELECT bot_id, status, t, 0, sum(n) FROM d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (bot_id, status, t, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    DELETE FROM bot_minutes WHERE n = 0 AND t < now() - interval '2 minutes';
    WITH d AS (DELETE FROM bot_minutes WHERE shard <> 0
               AND t < now() - interval '2 minutes' RETURNING bot_id, t, status, n)
    INSERT INTO bot_minutes AS c (bot_id, t, status, shard, n)
        SELECT bot_id, t, status, 0, sum(n) FROM d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (bot_id, t, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    DELETE FROM bot_hours WHERE n = 0 AND t < now() - interval '2 hours';
    WITH d AS (DELETE FROM bot_hours WHERE shard <> 0
               AND t < now() - interval '2 hours' RETURNING bot_id, t, status, n)
    INSERT INTO bot_hours AS c (bot_id, t, status, shard, n)
        SELECT bot_id, t, status, 0, sum(n) FROM d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (bot_id, t, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    DELETE FROM bot_latency WHERE n = 0 AND t < now() - interval '2 hours';
    WITH d AS (DELETE FROM bot_latency WHERE shard <> 0
               AND t < now() - interval '2 hours' RETURNING bot_id, t, ms, n)
    INSERT INTO bot_latency AS c (bot_id, t, ms, shard, n)
        SELECT bot_id, t, ms, 0, sum(n) FROM d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (bot_id, t, ms, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    WITH d AS (DELETE FROM bot_flood_minutes WHERE shard <> 0
               AND t < now() - interval '2 minutes' RETURNING bot_id, t, n)
    INSERT INTO bot_flood_minutes AS c (bot_id, t, shard, n)
        SELECT bot_id, t, 0, sum(n) FROM d GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (bot_id, t, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    WITH d AS (DELETE FROM bot_inbound_hours WHERE shard <> 0
               AND t < now() - interval '2 hours' RETURNING bot_id, t, n)
    INSERT INTO bot_inbound_hours AS c (bot_id, t, shard, n)
        SELECT bot_id, t, 0, sum(n) FROM d GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (bot_id, t, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    WITH d AS (DELETE FROM bot_debit_hours WHERE shard <> 0
               AND t < now() - interval '2 hours' RETURNING bot_id, t, credits)
    INSERT INTO bot_debit_hours AS c (bot_id, t, shard, credits)
        SELECT bot_id, t, 0, sum(credits) FROM d GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (bot_id, t, shard) DO UPDATE SET credits = c.credits + EXCLUDED.credits;
END $$;
