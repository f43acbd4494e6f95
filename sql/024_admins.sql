-- 024_admins.sql - who may act as a bot's admin in Telegram, and the audit log of what
-- people did. bot_admins: a bot's admins by Telegram user id, each with a role (owner:
-- everything and manages the admins; admin: also bans, unbans and gifts; agent: answers
-- users, /info, /close, /reopen); the API and the dashboard add the first owner
-- (docs/admins.md). audit_log: one row per action of a person or a key, written by
-- audit_write (sql/functions/audit_write.sql) in the transaction of the action; ref makes
-- a retried action's row once.
CREATE TABLE bot_admins (
    bot_id      bigint NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    user_id     bigint NOT NULL CHECK (user_id > 0),
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
    added_by    text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, user_id)
);

-- source: where the action came from; actor: the Telegram user id (telegram), the API
-- key's id (api) or the dashboard account's id and email (dashboard)
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id),
    bot_id      bigint REFERENCES bots(id) ON DELETE SET NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    source      text NOT NULL CHECK (source IN ('telegram', 'api', 'dashboard')),
    actor       text NOT NULL,
    action      text NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    target      text,
    detail      jsonb,
    ref         text UNIQUE
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id DESC);
CREATE INDEX audit_log_bot ON audit_log (bot_id, id DESC) WHERE bot_id IS NOT NULL;
