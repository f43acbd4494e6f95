-- messages_prune_refs.sql - delete up to p_batch rows of each table that refers to the
-- messages of ids lo to hi - 1 but lives outside their partitions: callbacks, the Bot API's
-- answers and files, and events kept in message_events' default partition (a late event
-- of a message whose events partition was dropped). Returns how many went; 0 means the
-- messages' partition can be dropped. Called by messages_prune.
CREATE OR REPLACE FUNCTION messages_prune_refs(p_lo bigint, p_hi bigint, p_batch integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    total bigint := 0;
BEGIN
    DELETE FROM callbacks WHERE id IN (SELECT id FROM callbacks
        WHERE message_id >= p_lo AND message_id < p_hi LIMIT p_batch);
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    DELETE FROM botapi_files WHERE (message_id, field) IN (SELECT message_id, field
        FROM botapi_files WHERE message_id >= p_lo AND message_id < p_hi LIMIT p_batch);
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    DELETE FROM botapi_answers WHERE message_id IN (SELECT message_id FROM botapi_answers
        WHERE message_id >= p_lo AND message_id < p_hi LIMIT p_batch);
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    DELETE FROM message_events_default WHERE id IN (SELECT id FROM message_events_default
        WHERE message_id >= p_lo AND message_id < p_hi LIMIT p_batch);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN total + n;
END $$;
