-- message_deltas_apply.sql - add signed message rows to the counters, in key order. The
-- counters of finished messages (sends and failures by second, latency, last error) are
-- not touched by deltas without such rows, as at an accept or a claim: each statement
-- costs its start even when it finds no row (2 % of an accept group's instructions in
-- PostgreSQL, bench/pg_cg.sh).
-- (first created by 009_counters.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION message_deltas_apply(ds message_delta[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s smallint := pg_backend_pid() % 64;
    done boolean;
    failed boolean;
BEGIN
    IF ds IS NULL OR cardinality(ds) = 0 THEN RETURN; END IF;
    SELECT coalesce(bool_or(x.status IN ('sent', 'failed')), false),
           coalesce(bool_or(x.d > 0 AND x.last_error IS NOT NULL), false)
        INTO done, failed FROM unnest(ds) x;
    INSERT INTO bot_status_counts AS c (bot_id, status, shard, n)
        SELECT x.bot_id, x.status, s, sum(x.d) FROM unnest(ds) x
        GROUP BY 1, 2 HAVING sum(x.d) <> 0 ORDER BY 1, 2
        ON CONFLICT (bot_id, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    INSERT INTO bot_minutes AS c (bot_id, t, status, shard, n)
        SELECT x.bot_id, date_trunc('minute', x.created_at), x.status, s, sum(x.d)
        FROM unnest(ds) x GROUP BY 1, 2, 3 HAVING sum(x.d) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (bot_id, t, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    INSERT INTO bot_hours AS c (bot_id, t, status, shard, n)
        SELECT x.bot_id, date_trunc('hour', x.created_at), x.status, s, sum(x.d)
        FROM unnest(ds) x GROUP BY 1, 2, 3 HAVING sum(x.d) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (bot_id, t, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    IF done THEN
        INSERT INTO bot_done_seconds AS c (bot_id, status, t, shard, n)
            SELECT x.bot_id, x.status, date_trunc('second',
                CASE WHEN x.status = 'sent' THEN x.sent_at ELSE x.updated_at END), s, sum(x.d)
            FROM unnest(ds) x WHERE x.status IN ('sent', 'failed')
            AND CASE WHEN x.status = 'sent' THEN x.sent_at ELSE x.updated_at END
                > now() - interval '2 hours'
            GROUP BY 1, 2, 3 HAVING sum(x.d) <> 0 ORDER BY 1, 2, 3
            ON CONFLICT (bot_id, status, t, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
        INSERT INTO bot_latency AS c (bot_id, t, ms, shard, n)
            SELECT x.bot_id, date_trunc('hour', x.created_at),
                latency_bin(greatest(extract(epoch FROM x.sent_at - x.created_at)::float8 * 1000, 0)),
                s, sum(x.d)
            FROM unnest(ds) x WHERE x.status = 'sent' AND x.sent_at IS NOT NULL
            GROUP BY 1, 2, 3 HAVING sum(x.d) <> 0 ORDER BY 1, 2, 3
            ON CONFLICT (bot_id, t, ms, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    IF failed THEN
        INSERT INTO bot_last_error AS c (bot_id, at, error)
            SELECT DISTINCT ON (x.bot_id) x.bot_id, x.updated_at, x.last_error
            FROM unnest(ds) x WHERE x.d > 0 AND x.last_error IS NOT NULL
            ORDER BY x.bot_id, x.updated_at DESC
            ON CONFLICT (bot_id) DO UPDATE SET at = EXCLUDED.at, error = EXCLUDED.error
            WHERE EXCLUDED.at >= c.at;
    END IF;
END $$;
