-- 010_accounts.sql - the dashboard's people: accounts of a tenant with a role, their
-- login sessions, and the invariants that keep a session from outliving the right to it.
--
-- An account is not a bot user (bot_users, 006): it is someone who logs in to the
-- dashboard. Its password is kept as "pbkdf2-sha256$<iterations>$<salt>$<hash>"
-- (common/password.c); a session as the SHA-256 of its cookie, never the cookie.

CREATE TABLE accounts (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id            bigint NOT NULL REFERENCES tenants(id),
    email                text NOT NULL
                         CHECK (length(email) BETWEEN 3 AND 254 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    role                 text NOT NULL CHECK (role IN ('owner', 'admin', 'agent', 'viewer')),
    password_hash        text NOT NULL,
    must_change_password boolean NOT NULL DEFAULT true,
    failed_logins        integer NOT NULL DEFAULT 0,
    locked_until         timestamptz,
    disabled_at          timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    last_login_at        timestamptz
);
-- one account per address across tenants: a login names an email, not a tenant
CREATE UNIQUE INDEX accounts_email ON accounts (lower(email));
CREATE INDEX accounts_tenant ON accounts (tenant_id, id);

CREATE TABLE sessions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES accounts(id),
    hash          bytea NOT NULL UNIQUE,
    address       text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
CREATE INDEX sessions_account ON sessions (account_id) WHERE revoked_at IS NULL;

-- A new password, a disabled account or a changed role ends every session of it.
CREATE FUNCTION accounts_revoke_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER accounts_changed BEFORE UPDATE OF password_hash, role, disabled_at ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_revoke_sessions();

-- A tenant keeps at least one owner who can log in: the last one is neither demoted
-- nor disabled (tgmctl can always make another).
CREATE FUNCTION accounts_keep_owner() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER accounts_last_owner BEFORE UPDATE OF role, disabled_at ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_keep_owner();
