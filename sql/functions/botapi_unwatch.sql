-- botapi_unwatch.sql - this session no longer waits for the bot's updates (the end of
-- botapi_watch)
CREATE OR REPLACE FUNCTION botapi_unwatch(p_bot bigint) RETURNS boolean
LANGUAGE sql AS $$
    SELECT pg_advisory_unlock_shared(7485, hashint8(p_bot))
$$;
