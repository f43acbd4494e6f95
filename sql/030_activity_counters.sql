-- 030_activity_counters.sql - the Analytics page's inbound traffic and credits spent,
-- counted as they happen (like 009's counters) instead of read from tg_updates and the
-- ledger on every call: GET /v1/stats/activity then costs the same with a year of
-- history as with a day. Hours of the UTC clock; shards per writing backend, folded by
-- bot_counters_compact(). The triggers are in their functions' files
-- (sql/functions/tg_updates_counted.sql, ledger_debits_counted.sql).
CREATE TABLE bot_inbound_hours (
    bot_id  bigint NOT NULL,
    t       timestamptz NOT NULL,      -- the hour the updates were received in
    shard   smallint NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (bot_id, t, shard)
);

CREATE TABLE bot_debit_hours (
    bot_id  bigint NOT NULL,
    t       timestamptz NOT NULL,      -- the hour of the debits
    shard   smallint NOT NULL,
    credits bigint NOT NULL,           -- credits taken, a positive number
    PRIMARY KEY (bot_id, t, shard)
);

-- the rows already there (webhookd's own tgm_* updates are not traffic)
INSERT INTO bot_inbound_hours (bot_id, t, shard, n)
    SELECT bot_id, date_trunc('hour', received_at), 0, count(*) FROM tg_updates
    WHERE kind NOT LIKE 'tgm\_%' GROUP BY 1, 2;
INSERT INTO bot_debit_hours (bot_id, t, shard, credits)
    SELECT bot_id, date_trunc('hour', at), 0, -sum(credits) FROM ledger
    WHERE kind = 'debit' GROUP BY 1, 2;
