-- tg_updates_notify.sql - trigger: NOTIFY the bot API waiters of new updates, for the
-- bots a gatewayd waits for (botapi_watch.sql says why, and why none is missed)
-- (first created by 014_botapi_updates.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION tg_updates_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tgm_updates', b::text)
       FROM (SELECT DISTINCT bot_id AS b FROM new_updates WHERE update_id >= 0) s
      WHERE botapi_watched(b);
    RETURN NULL;
END $$;
