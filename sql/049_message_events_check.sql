-- 049_message_events_check.sql - an event's message checked once per statement instead of
-- once a row: the foreign key message_events (message_id) -> messages (id) of 001 becomes
-- the statement trigger sql/functions/message_events_check.sql with its other half on
-- messages, sql/functions/messages_keep_events.sql (no delete, no new id while the
-- message has events). On the partitioned messages the key's check ran a cached plan
-- that locked every partition of messages and its indexes for each event: about 100 us
-- an event (500 events: 53-86 ms with the key, 6-10 ms with the trigger), and senderd's
-- claim and record write one event a message each. Dropping the key reads nothing.
ALTER TABLE message_events DROP CONSTRAINT message_events_message_id_fkey;
