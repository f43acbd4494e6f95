-- 009_counters.sql - the figures gatewayd reads (queue depths, per-bot health, stats,
-- the bot choice) kept as messages move instead of counted afresh on every call.
--
-- Statement triggers on messages (and on message_events for 429s) turn each
-- statement's old and new rows into signed deltas, aggregated per key, and add them to
-- small tables. Every table is sharded by the writing backend (pg_backend_pid() % 64):
-- concurrent group commits of one bot almost always add to different rows, so a counter
-- row seldom holds one connection's transaction behind another's COMMIT; readers sum
-- the shards. Rows are upserted
-- in key order, so two statements never wait on each other in a cycle.
-- Resolution: stats by minute of creation, recent sends and failures by second,
-- latency in bins of two significant digits (exact under 100 ms) by hour of creation.

-- messages of a bot by current status
CREATE TABLE bot_status_counts (
    bot_id  bigint NOT NULL,
    status  text NOT NULL,
    shard   smallint NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (bot_id, status, shard)
) WITH (fillfactor = 50);

-- messages of a bot by minute of creation and current status (GET /v1/stats)
CREATE TABLE bot_minutes (
    bot_id  bigint NOT NULL,
    t       timestamptz NOT NULL,
    status  text NOT NULL,
    shard   smallint NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (bot_id, t, status, shard)
) WITH (fillfactor = 70);

-- the same by hour: a day of stats reads 24 rows per bot and status, not 1,440
CREATE TABLE bot_hours (
    bot_id  bigint NOT NULL,
    t       timestamptz NOT NULL,
    status  text NOT NULL,
    shard   smallint NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (bot_id, t, status, shard)
) WITH (fillfactor = 70);

-- sent (by second of sent_at) and failed (by second of updated_at) messages of the last
-- hour: the health of GET /v1/bots, the rate used, the bot choice's free rate
CREATE TABLE bot_done_seconds (
    bot_id  bigint NOT NULL,
    status  text NOT NULL,
    t       timestamptz NOT NULL,
    shard   smallint NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (bot_id, status, t, shard)
) WITH (fillfactor = 70);

-- accept-to-sent latency of sent messages by hour of creation, in bins of milliseconds
CREATE TABLE bot_latency (
    bot_id  bigint NOT NULL,
    t       timestamptz NOT NULL,
    ms      numeric NOT NULL,
    shard   smallint NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (bot_id, t, ms, shard)
) WITH (fillfactor = 70);

-- 429 events by the bot and minute of creation of their message
CREATE TABLE bot_flood_minutes (
    bot_id  bigint NOT NULL,
    t       timestamptz NOT NULL,
    shard   smallint NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (bot_id, t, shard)
);

-- the latest error of each bot's messages
CREATE TABLE bot_last_error (
    bot_id  bigint PRIMARY KEY,
    at      timestamptz NOT NULL,
    error   text NOT NULL
);

-- the chats each bot has been given messages for (the bot choice's "has sent to it")
CREATE TABLE bot_chats (
    chat    text NOT NULL,
    bot_id  bigint NOT NULL,
    PRIMARY KEY (chat, bot_id)
);

-- the choice finds a chat's bots by @username too
CREATE INDEX chats_username ON chats (('@' || lower(username))) WHERE username IS NOT NULL;

CREATE TYPE message_delta AS (
    bot_id bigint, status text, created_at timestamptz, sent_at timestamptz,
    updated_at timestamptz, last_error text, d integer);

-- latency_bin - a latency in ms kept to two significant digits (exact under 100 ms),
-- reckoned in float8: numeric's log() cost 13 us a row, most of a transition's counting
CREATE FUNCTION latency_bin(ms float8) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT (CASE WHEN ms < 100 THEN round(ms)
        ELSE round(ms / 10 ^ (floor(log(ms)) - 1)) * 10 ^ (floor(log(ms)) - 1) END)::numeric
$$;

-- latency_percentile - percentile_cont(p) over values given as bins (ascending) and counts
CREATE FUNCTION latency_percentile(bins numeric[], counts bigint[], p float8)
RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    total bigint := 0; h float8; lo bigint; hi bigint; cum bigint := 0;
    vlo float8; vhi float8;
BEGIN
    IF bins IS NULL OR cardinality(bins) = 0 THEN RETURN NULL; END IF;
    FOR i IN 1 .. cardinality(counts) LOOP total := total + counts[i]; END LOOP;
    IF total <= 0 THEN RETURN NULL; END IF;
    h := p * (total - 1);
    lo := floor(h);
    hi := least(lo + 1, total - 1);
    FOR i IN 1 .. cardinality(bins) LOOP
        cum := cum + counts[i];
        IF vlo IS NULL AND cum > lo THEN vlo := bins[i]; END IF;
        IF cum > hi THEN vhi := bins[i]; EXIT; END IF;
    END LOOP;
    RETURN vlo + (h - lo) * (vhi - vlo);
END $$;

-- message_deltas_apply - add signed message rows to the counters, in key order
CREATE FUNCTION message_deltas_apply(ds message_delta[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s smallint := pg_backend_pid() % 64;
BEGIN
    IF ds IS NULL OR cardinality(ds) = 0 THEN RETURN; END IF;
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
    INSERT INTO bot_last_error AS c (bot_id, at, error)
        SELECT DISTINCT ON (x.bot_id) x.bot_id, x.updated_at, x.last_error
        FROM unnest(ds) x WHERE x.d > 0 AND x.last_error IS NOT NULL
        ORDER BY x.bot_id, x.updated_at DESC
        ON CONFLICT (bot_id) DO UPDATE SET at = EXCLUDED.at, error = EXCLUDED.error
        WHERE EXCLUDED.at >= c.at;
END $$;

-- bot_counters_compact - fold the shards of the status counts and of buckets no longer
-- written (but by late transitions) into shard 0, and drop empty rows and seconds no one reads: readers then
-- sum about one row per key. gatewayd's janitor calls it every minute.
CREATE FUNCTION bot_counters_compact() RETURNS void LANGUAGE plpgsql AS $$
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
END $$;

CREATE FUNCTION messages_counted_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM message_deltas_apply(array(SELECT row(n.bot_id, n.status, n.created_at,
        n.sent_at, n.updated_at, n.last_error, 1)::message_delta FROM new_rows n));
    INSERT INTO bot_chats (chat, bot_id)
        SELECT DISTINCT n.chat, n.bot_id FROM new_rows n ORDER BY 1, 2
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

-- messages_counted_update - the old rows counted out, the new ones in. No join of the
-- two transition tables: they have no statistics, so a join is planned as a nested loop,
-- quadratic in the rows of the statement (3,000 rows took 6 s); a row that did not change
-- cancels itself out in the sums, and EXCEPT (hashed) finds the new chats.
CREATE FUNCTION messages_counted_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM message_deltas_apply(array(
        SELECT row(o.bot_id, o.status, o.created_at, o.sent_at, o.updated_at,
            o.last_error, -1)::message_delta FROM old_rows o
        UNION ALL
        SELECT row(n.bot_id, n.status, n.created_at, n.sent_at, n.updated_at,
            n.last_error, 1)::message_delta FROM new_rows n));
    INSERT INTO bot_chats (chat, bot_id)
        SELECT chat, bot_id FROM (SELECT n.chat, n.bot_id FROM new_rows n
            EXCEPT SELECT o.chat, o.bot_id FROM old_rows o) c ORDER BY 1, 2
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION messages_counted_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM message_deltas_apply(array(SELECT row(o.bot_id, o.status, o.created_at,
        o.sent_at, o.updated_at, NULL, -1)::message_delta FROM old_rows o));
    RETURN NULL;
END $$;

CREATE FUNCTION message_events_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s smallint := pg_backend_pid() % 64;
BEGIN
    INSERT INTO bot_flood_minutes AS c (bot_id, t, shard, n)
        SELECT m.bot_id, date_trunc('minute', m.created_at), s, count(*)
        FROM new_rows e JOIN messages m ON m.id = e.message_id
        WHERE e.detail LIKE '429%' GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (bot_id, t, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE TRIGGER messages_counted_insert AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION messages_counted_insert();
CREATE TRIGGER messages_counted_update AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION messages_counted_update();
CREATE TRIGGER messages_counted_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION messages_counted_delete();
CREATE TRIGGER message_events_counted AFTER INSERT ON message_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION message_events_counted();

-- the rows already there
INSERT INTO bot_status_counts (bot_id, status, shard, n)
    SELECT bot_id, status, 0, count(*) FROM messages GROUP BY 1, 2;
INSERT INTO bot_minutes (bot_id, t, status, shard, n)
    SELECT bot_id, date_trunc('minute', created_at), status, 0, count(*)
    FROM messages GROUP BY 1, 2, 3;
INSERT INTO bot_hours (bot_id, t, status, shard, n)
    SELECT bot_id, date_trunc('hour', created_at), status, 0, count(*)
    FROM messages GROUP BY 1, 2, 3;
INSERT INTO bot_done_seconds (bot_id, status, t, shard, n)
    SELECT bot_id, status,
        date_trunc('second', CASE WHEN status = 'sent' THEN sent_at ELSE updated_at END),
        0, count(*)
    FROM messages WHERE status IN ('sent', 'failed')
    AND CASE WHEN status = 'sent' THEN sent_at ELSE updated_at END > now() - interval '2 hours'
    GROUP BY 1, 2, 3;
INSERT INTO bot_latency (bot_id, t, ms, shard, n)
    SELECT bot_id, date_trunc('hour', created_at),
        latency_bin(greatest(extract(epoch FROM sent_at - created_at)::float8 * 1000, 0)), 0, count(*)
    FROM messages WHERE status = 'sent' AND sent_at IS NOT NULL GROUP BY 1, 2, 3;
INSERT INTO bot_flood_minutes (bot_id, t, shard, n)
    SELECT m.bot_id, date_trunc('minute', m.created_at), 0, count(*)
    FROM message_events e JOIN messages m ON m.id = e.message_id
    WHERE e.detail LIKE '429%' GROUP BY 1, 2;
INSERT INTO bot_last_error (bot_id, at, error)
    SELECT DISTINCT ON (bot_id) bot_id, updated_at, last_error FROM messages
    WHERE last_error IS NOT NULL ORDER BY bot_id, updated_at DESC;
INSERT INTO bot_chats (chat, bot_id) SELECT DISTINCT chat, bot_id FROM messages;
