-- tg_updates_bot_check.sql - trigger: each stored update's bot exists, checked once per
-- statement (migration 052 replaced the foreign key tg_updates (bot_id) -> bots (id),
-- whose check ran once a row: 3 us of an update's 20 in the store statement). Like a
-- foreign key's check it locks each bot FOR KEY SHARE, so a concurrent delete or
-- renumbering of the bot waits for this transaction and then finds the updates
-- (bots_keep_updates.sql). An update moved to another bot is checked row by row (no
-- statement moves one).
CREATE OR REPLACE FUNCTION tg_updates_bot_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint := 1;
    found bigint;
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        SELECT count(*) INTO found FROM (SELECT 1 FROM bots b WHERE b.id = NEW.bot_id
            FOR KEY SHARE OF b) x;
    ELSE
        WITH k AS (SELECT DISTINCT n.bot_id FROM new_rows n)
        SELECT (SELECT count(*) FROM k),
               (SELECT count(*) FROM (SELECT 1 FROM bots b JOIN k ON b.id = k.bot_id
                    FOR KEY SHARE OF b) x)
          INTO wanted, found;
    END IF;
    IF found < wanted THEN
        RAISE EXCEPTION 'an update of tg_updates names no bot'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'tg_updates_bot_id_fkey',
                  DETAIL = 'a bot_id of the new rows is not in table bots';
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER tg_updates_bot_check AFTER INSERT ON tg_updates
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tg_updates_bot_check();
CREATE OR REPLACE TRIGGER tg_updates_bot_check_update
    AFTER UPDATE OF bot_id ON tg_updates
    FOR EACH ROW WHEN (OLD.bot_id IS DISTINCT FROM NEW.bot_id)
    EXECUTE FUNCTION tg_updates_bot_check();
