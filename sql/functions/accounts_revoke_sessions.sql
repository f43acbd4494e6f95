-- accounts_revoke_sessions.sql - trigger: end the sessions of a changed account
-- A new password, a disabled account or a changed role ends every session of it.
-- (first created by 010_accounts.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION accounts_revoke_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.password_hash IS DISTINCT FROM OLD.password_hash
       OR NEW.role IS DISTINCT FROM OLD.role
       OR (NEW.disabled_at IS NOT NULL AND OLD.disabled_at IS NULL) THEN
        UPDATE sessions SET revoked_at = now()
         WHERE account_id = NEW.id AND revoked_at IS NULL;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
