-- accounts_keep_owner.sql - trigger: a tenant keeps at least one owner who can log in
-- A tenant keeps at least one owner who can log in: the last one is neither demoted
-- nor disabled (tgmctl can always make another).
-- (first created by 010_accounts.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION accounts_keep_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.role = 'owner' AND OLD.disabled_at IS NULL
       AND (NEW.role <> 'owner' OR NEW.disabled_at IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM accounts WHERE tenant_id = OLD.tenant_id
                       AND id <> OLD.id AND role = 'owner' AND disabled_at IS NULL) THEN
        RAISE EXCEPTION 'the last owner of a tenant stays an enabled owner'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'accounts_last_owner';
    END IF;
    RETURN NEW;
END $$;
