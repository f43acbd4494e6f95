-- latency_bin.sql - a latency in ms kept to two significant digits (exact under 100 ms),
-- reckoned in float8: numeric's log() cost 13 us a row, most of a transition's counting
-- (first created by 009_counters.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION latency_bin(ms float8) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT (CASE WHEN ms < 100 THEN round(ms)
        ELSE round(ms / 10 ^ (floor(log(ms)) - 1)) * 10 ^ (floor(log(ms)) - 1) END)::numeric
$$;
