-- 018_inbox.sql - the inbox: one conversation per (bot, private chat) with its timeline
-- of inbound messages, service events and agents' notes; its state, assignee, pin and
-- unread count; tags per tenant; quick-reply templates.
--
-- Outbound messages are not copied here: a timeline reads them from messages through
-- messages_bot_chat (002: bot_id, chat, id), so neither gatewayd's accept path nor
-- senderd does any work for the inbox. webhookd writes the inbound half
-- (sql/functions/inbox_record.sql); gatewayd the rest (gatewayd/conversations.c ...).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- state: open, pending, snoozed (until snoozed_until, then it reads as open), closed.
-- contact: the user's names as search reads them ("first last @username").
CREATE TABLE conversations (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id         bigint NOT NULL REFERENCES tenants(id),
    bot_id            bigint NOT NULL REFERENCES bots(id),
    chat_id           bigint NOT NULL,
    contact           text NOT NULL DEFAULT '',
    state             text NOT NULL DEFAULT 'open'
                      CHECK (state IN ('open', 'pending', 'snoozed', 'closed')),
    snoozed_until     timestamptz,
    assignee_id       bigint REFERENCES accounts(id),
    pinned            boolean NOT NULL DEFAULT false,
    unread            integer NOT NULL DEFAULT 0 CHECK (unread >= 0),
    last_activity_at  timestamptz NOT NULL DEFAULT now(),
    last_inbound_at   timestamptz,
    last_text         text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bot_id, chat_id),
    CHECK ((state = 'snoozed') = (snoozed_until IS NOT NULL))
);
-- the inbox list: a tenant's conversations by last activity (keyset paging)
CREATE INDEX conversations_activity ON conversations (tenant_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_contact ON conversations USING gin (contact gin_trgm_ops);

-- kind: message (inbound, from the user), event (blocked, unblocked, joined) or note
-- (an agent's, never sent). An edit changes its message's text in place (edits counts
-- them; edit_seq is the last edit's update, so an edit processed twice counts once).
CREATE TABLE conversation_items (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id      bigint NOT NULL REFERENCES conversations(id),
    tenant_id            bigint NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('message', 'event', 'note')),
    update_seq           bigint,
    telegram_message_id  bigint,
    reply_to             bigint,
    text                 text,
    media_kind           text,
    file_id              text,
    event                text,
    account_id           bigint REFERENCES accounts(id),
    edits                integer NOT NULL DEFAULT 0,
    edit_seq             bigint,
    edited_at            timestamptz,
    at                   timestamptz NOT NULL DEFAULT now(),
    -- the text's words for full text search, kept by PostgreSQL (edits included)
    words                tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(text, '')))
                         STORED
);
CREATE INDEX conversation_items_timeline ON conversation_items (conversation_id, at, id);
CREATE UNIQUE INDEX conversation_items_message ON conversation_items
    (conversation_id, telegram_message_id) WHERE kind = 'message';
CREATE UNIQUE INDEX conversation_items_event ON conversation_items (update_seq, event)
    WHERE kind = 'event';
-- search: whole words (full text) and parts of words (trigrams)
CREATE INDEX conversation_items_words ON conversation_items USING gin (words);
CREATE INDEX conversation_items_trgm ON conversation_items
    USING gin (text gin_trgm_ops) WHERE text IS NOT NULL;

CREATE TABLE tags (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    color       text NOT NULL DEFAULT '#888888' CHECK (color ~ '^#[0-9a-f]{6}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tags_name ON tags (tenant_id, lower(name));

CREATE TABLE conversation_tags (
    conversation_id  bigint NOT NULL REFERENCES conversations(id),
    tag_id           bigint NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, tag_id)
);
CREATE INDEX conversation_tags_tag ON conversation_tags (tag_id, conversation_id);

-- A template an agent sends with a click; {first_name}, {last_name}, {username} and
-- {name} are filled from the conversation's user (gatewayd/quickreply.c).
CREATE TABLE quick_replies (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id),
    category    text NOT NULL DEFAULT '' CHECK (length(category) <= 64),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    text        text NOT NULL CHECK (length(text) BETWEEN 1 AND 4096),
    uses        bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quick_replies_tenant ON quick_replies (tenant_id, category, title);
