-- 001_core.sql - the core tables: tenants and their API keys, bots, chats, the
-- outbound message queue with its history, and the daemons' heartbeats.
--
-- Conventions: ids are bigint identities; times are timestamptz; every state change
-- of a message is a row in message_events (append only); secrets are stored sealed
-- (AES-256-GCM, see common/crypto.c) or hashed, never in clear.

CREATE TABLE tenants (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- An API key is shown once; only its SHA-256 is kept. `prefix` (the first characters)
-- lets people recognise a key in lists.
CREATE TABLE api_keys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     bigint NOT NULL REFERENCES tenants(id),
    name          text NOT NULL DEFAULT '',
    scope         text NOT NULL CHECK (scope IN ('admin', 'send', 'read')),
    prefix        text NOT NULL,
    hash          bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

-- A bot's token is sealed (token_sealed) and also hashed (token_hash) so that
-- /bot<token>/ requests find their bot without decrypting every row.
CREATE TABLE bots (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        bigint NOT NULL REFERENCES tenants(id),
    telegram_id      bigint NOT NULL,
    username         text NOT NULL DEFAULT '',
    name             text NOT NULL DEFAULT '',
    token_sealed     text NOT NULL,
    token_hash       bytea NOT NULL,
    enabled          boolean NOT NULL DEFAULT true,
    disabled_reason  text,
    settings         jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz
);
CREATE UNIQUE INDEX bots_token_live ON bots (token_hash) WHERE deleted_at IS NULL;
CREATE INDEX bots_tenant ON bots (tenant_id) WHERE deleted_at IS NULL;

-- What a bot knows of a chat: who it may reach, and whether it is blocked there.
CREATE TABLE chats (
    bot_id          bigint NOT NULL REFERENCES bots(id),
    chat_id         bigint NOT NULL,
    type            text NOT NULL DEFAULT 'private'
                    CHECK (type IN ('private', 'group', 'supergroup', 'channel')),
    title           text,
    username        text,
    blocked_at      timestamptz,
    blocked_reason  text,
    migrated_to     bigint,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, chat_id)
);
CREATE INDEX chats_chat ON chats (chat_id);

-- The outbound queue. One row per Telegram send (method + JSON parameters).
-- priority: 0 high, 1 normal, 2 bulk. `chat` is the target as given (an integer id
-- or @channelusername) and keys per-chat order and rate.
CREATE TABLE messages (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id            bigint NOT NULL REFERENCES tenants(id),
    bot_id               bigint NOT NULL REFERENCES bots(id),
    chat                 text NOT NULL,
    method               text NOT NULL DEFAULT 'sendMessage',
    params               jsonb NOT NULL,
    priority             smallint NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 2),
    status               text NOT NULL DEFAULT 'queued'
                         CHECK (status IN ('queued', 'sending', 'retrying', 'sent', 'failed',
                                           'expired', 'canceled')),
    attempts             integer NOT NULL DEFAULT 0,
    not_before           timestamptz NOT NULL DEFAULT now(),
    expires_at           timestamptz,
    idempotency_key      text,
    request_hash         bytea,
    callback_url         text,
    metadata             jsonb,
    telegram_message_id  bigint,
    last_error           text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    sent_at              timestamptz
) WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02,
        autovacuum_vacuum_cost_delay = 1);
-- what a lane claims: due rows of one bot in priority order
CREATE INDEX messages_due ON messages (bot_id, priority, id)
    WHERE status IN ('queued', 'retrying');
CREATE UNIQUE INDEX messages_idempotency ON messages (tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX messages_tenant_created ON messages (tenant_id, id);

-- Every transition of a message, in order.
CREATE TABLE message_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  bigint NOT NULL REFERENCES messages(id),
    status      text NOT NULL,
    detail      text,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_events_message ON message_events (message_id, id);

-- Heartbeats: each running daemon refreshes its row every few seconds.
CREATE TABLE daemons (
    name        text NOT NULL,
    instance    text NOT NULL DEFAULT '',
    host        text NOT NULL,
    pid         integer NOT NULL,
    version     text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz NOT NULL DEFAULT now(),
    stopped_at  timestamptz,
    PRIMARY KEY (name, instance, host)
);
