-- botapi_watch.sql - who waits for a bot's updates, so that only those are told. A
-- gatewayd with getUpdates polls of a bot holds a shared advisory lock on the bot's
-- key (7485 and the hash of its id), on its LISTEN connection, before it first reads
-- them (botapi_watch); the trigger that stores updates tells a bot's news only when
-- the key is held (botapi_watched). A NOTIFY costs every storing transaction a
-- database-wide lock and a write to the notification queue, about a third of
-- webhookd's intake: no listener, no NOTIFY. botapi_watched, finding the key free,
-- takes it until its transaction ends: a watch that starts meanwhile waits for that
-- COMMIT, and its first read then sees the rows, so an update is either seen by the
-- read or told (no wake-up is ever lost).
CREATE OR REPLACE FUNCTION botapi_watch(p_bot bigint) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_lock_shared(7485, hashint8(p_bot))
$$;
