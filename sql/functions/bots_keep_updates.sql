-- bots_keep_updates.sql - trigger: a bot that has stored updates is not deleted and keeps
-- its id, the other half of tg_updates_bot_check.sql (a foreign key did both until
-- migration 052). Bots are only ever marked deleted; this guards the rows underneath.
CREATE OR REPLACE FUNCTION bots_keep_updates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM tg_updates u WHERE u.bot_id = OLD.id) THEN
        RAISE EXCEPTION 'bot % has updates: it cannot be deleted or renumbered', OLD.id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'tg_updates_bot_id_fkey';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE OR REPLACE TRIGGER bots_keep_updates BEFORE DELETE OR UPDATE OF id ON bots
    FOR EACH ROW EXECUTE FUNCTION bots_keep_updates();
