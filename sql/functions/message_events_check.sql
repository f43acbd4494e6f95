-- message_events_check.sql - trigger: each new event's message exists, checked once per
-- statement (migration 049 replaced the foreign key message_events (message_id) ->
-- messages (id), whose check ran once a row: on the partitioned messages, a cached plan
-- locking every partition and index of it for each event). Like a foreign key's check it
-- locks each message FOR KEY SHARE, so a concurrent delete of the message waits for this
-- transaction and then finds its events (messages_keep_events.sql). The messages are
-- read by key (= ANY of an array: never a join the planner could make a scan of
-- messages). Events written straight into a partition of message_events are not
-- checked: nothing does that but the retention pruner's deletes. An event moved to another
-- message (no statement does that) is checked alone.
CREATE OR REPLACE FUNCTION message_events_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint;
    found bigint;
BEGIN
    IF TG_LEVEL = 'ROW' THEN -- a moved event: checked alone
        SELECT count(*) INTO found FROM (SELECT 1 FROM messages m
            WHERE m.id = NEW.message_id FOR KEY SHARE OF m) x;
        wanted := 1;
    ELSE
        WITH k AS (SELECT DISTINCT n.message_id FROM new_rows n)
        SELECT (SELECT count(*) FROM k),
               (SELECT count(*) FROM (SELECT 1 FROM messages m
                    WHERE m.id = ANY (ARRAY(SELECT k.message_id FROM k)) FOR KEY SHARE OF m) x)
          INTO wanted, found;
    END IF;
    IF found < wanted THEN
        RAISE EXCEPTION 'an event of message_events names no message'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'message_events_message',
                  DETAIL = 'a message_id of the new rows is not in table messages';
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER message_events_check AFTER INSERT ON message_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION message_events_check();
CREATE OR REPLACE TRIGGER message_events_check_update
    AFTER UPDATE OF message_id ON message_events
    FOR EACH ROW WHEN (OLD.message_id IS DISTINCT FROM NEW.message_id)
    EXECUTE FUNCTION message_events_check();
