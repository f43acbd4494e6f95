-- tg_updates_notify.sql - trigger: NOTIFY the bot API waiters of new updates
-- (first created by 014_botapi_updates.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION tg_updates_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tgm_updates', b::text)
       FROM (SELECT DISTINCT bot_id AS b FROM new_updates WHERE update_id >= 0) s;
    RETURN NULL;
END $$;
