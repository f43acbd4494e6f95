-- messages_keep_events.sql - trigger: a message that has events is not deleted and keeps
-- its id, the other half of message_events_check.sql (a foreign key did both until
-- migration 049). Messages go by whole partitions (the retention pruner drops a message
-- partition with its events); this guards the rows underneath. A delete is checked once
-- per statement, reading the events by key.
CREATE OR REPLACE FUNCTION messages_keep_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        IF EXISTS (SELECT 1 FROM message_events e WHERE e.message_id = OLD.id) THEN
            RAISE EXCEPTION 'message % has events: it keeps its id', OLD.id
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'message_events_message';
        END IF;
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM message_events e
               WHERE e.message_id = ANY (ARRAY(SELECT o.id FROM old_rows o))) THEN
        RAISE EXCEPTION 'a message that has events cannot be deleted'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'message_events_message',
                  DETAIL = 'delete its events from message_events first';
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER messages_keep_events AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION messages_keep_events();
CREATE OR REPLACE TRIGGER messages_keep_events_id BEFORE UPDATE OF id ON messages
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION messages_keep_events();
