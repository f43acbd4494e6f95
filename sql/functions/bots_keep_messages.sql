-- bots_keep_messages.sql - trigger: a bot that has messages is not deleted and keeps its
-- id and tenant, the other half of messages_bot_check.sql (a foreign key did both until
-- migration 046). Bots are only ever marked deleted; this guards the rows underneath.
CREATE OR REPLACE FUNCTION bots_keep_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM messages m WHERE m.bot_id = OLD.id) THEN
        RAISE EXCEPTION 'bot % has messages: it cannot be deleted or moved', OLD.id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'messages_bot_tenant';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE OR REPLACE TRIGGER bots_keep_messages BEFORE DELETE OR UPDATE OF id, tenant_id ON bots
    FOR EACH ROW EXECUTE FUNCTION bots_keep_messages();
