-- bots_notify.sql - trigger: NOTIFY webhookd of a bot change that matters to it
-- A change that matters to webhookd (a bot added, enabled, disabled, deleted, its
-- settings or token changed) is announced on channel tgm_bots with the bot's id.
-- (first created by 006_webhookd.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bots_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tgm_bots', NEW.id::text);
    RETURN NULL;
END $$;
