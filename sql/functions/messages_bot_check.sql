-- messages_bot_check.sql - trigger: each new message's bot exists and is of the message's
-- tenant, checked once per statement (migration 046 replaced the foreign key messages
-- (bot_id, tenant_id) -> bots (id, tenant_id), whose check ran once a row: a fifth of an
-- accept group's CPU in PostgreSQL). Like a foreign key's check it locks each bot FOR
-- KEY SHARE, so a concurrent delete or renumbering of the bot waits for this transaction
-- and then finds the messages (bots_keep_messages.sql). A message moved to another bot
-- or tenant is checked the same way, row by row (no statement moves one).
CREATE OR REPLACE FUNCTION messages_bot_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint := 1;
    found bigint;
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        SELECT count(*) INTO found FROM (SELECT 1 FROM bots b WHERE b.id = NEW.bot_id
            AND b.tenant_id = NEW.tenant_id FOR KEY SHARE OF b) x;
    ELSE
        WITH k AS (SELECT DISTINCT n.bot_id, n.tenant_id FROM new_rows n)
        SELECT (SELECT count(*) FROM k),
               (SELECT count(*) FROM (SELECT 1 FROM bots b JOIN k ON b.id = k.bot_id
                    AND b.tenant_id = k.tenant_id FOR KEY SHARE OF b) x)
          INTO wanted, found;
    END IF;
    IF found < wanted THEN
        RAISE EXCEPTION 'a message of messages names no bot of its tenant'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'messages_bot_tenant',
                  DETAIL = 'a (bot_id, tenant_id) of the new rows is not in table bots';
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER messages_bot_check AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION messages_bot_check();
CREATE OR REPLACE TRIGGER messages_bot_check_update
    AFTER UPDATE OF bot_id, tenant_id ON messages
    FOR EACH ROW WHEN (OLD.bot_id IS DISTINCT FROM NEW.bot_id
                       OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
    EXECUTE FUNCTION messages_bot_check();
