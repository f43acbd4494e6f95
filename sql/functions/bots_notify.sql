-- A change that matters to webhookd (a bot added, enabled, disabled, deleted, its
-- settings or token changed) is announced on channel tgm_bots with the bot's id.
CREATE OR REPLACE FUNCTION bots_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tgm_bots', NEW.id::text);
    RETURN NULL;
END $$;
