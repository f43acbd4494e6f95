-- botapi_watched.sql - some session waits for the bot's updates (botapi_watch.sql).
-- Finding none, it takes the bot's key until this transaction ends, so that a watch
-- starting meanwhile waits for the COMMIT. Another transaction storing the bot's
-- updates at the same moment also counts as a watch: a NOTIFY too many is harmless.
CREATE OR REPLACE FUNCTION botapi_watched(p_bot bigint) RETURNS boolean
LANGUAGE sql AS $$
    SELECT NOT pg_try_advisory_xact_lock(7485, hashint8(p_bot))
$$;
