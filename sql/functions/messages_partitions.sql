-- messages_partitions.sql - the range partitions of messages or message_events (their
-- default partition left out), oldest first, each with its bounds: lo (the first
-- message id it holds; the first partition starts at the smallest bigint) and hi (the
-- first it does not). Read from the catalog, the only record of them.
CREATE OR REPLACE FUNCTION messages_partitions(p_parent regclass)
RETURNS TABLE (name text, lo bigint, hi bigint) LANGUAGE sql STABLE AS $$
    SELECT c.relname::text,
           CASE WHEN b[1] = 'MINVALUE' THEN -9223372036854775808 ELSE trim(b[1], '''')::bigint END,
           CASE WHEN b[2] = 'MAXVALUE' THEN 9223372036854775807 ELSE trim(b[2], '''')::bigint END
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
         regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \((.*)\) TO \((.*)\)') b
    WHERE i.inhparent = p_parent AND b IS NOT NULL
    ORDER BY 2
$$;
