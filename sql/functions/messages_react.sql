-- messages_react.sql - trigger: a message sent whose metadata holds react ({"chat",
-- "message_id", "emoji"}: webhookd's copy of an admin's answer to the user) queues that
-- reaction on the admin's own message (setMessageReaction), so the topic shows the
-- answer reached the user (docs/conversations.md). Once: only the change to sent fires.
-- The trigger is created here, with its function.
CREATE OR REPLACE FUNCTION messages_react() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r jsonb := NEW.metadata->'react';
BEGIN
    PERFORM queue_message(NEW.bot_id, r->>'chat', 'setMessageReaction',
        jsonb_build_object('chat_id', (r->>'chat')::bigint,
                           'message_id', (r->>'message_id')::bigint,
                           'reaction', jsonb_build_array(jsonb_build_object(
                               'type', 'emoji', 'emoji', r->>'emoji'))),
        1::smallint, jsonb_build_object('source', 'webhookd', 'delivered', NEW.id));
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER messages_react AFTER UPDATE OF status ON messages
    FOR EACH ROW WHEN (NEW.status = 'sent' AND OLD.status <> 'sent'
                       AND NEW.metadata ? 'react')
    EXECUTE FUNCTION messages_react();
