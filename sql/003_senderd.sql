-- 003_senderd.sql - what senderd's lanes need: a lease per bot (exactly one lane per
-- bot in the whole cluster) and a quick way to the rows a dead owner left in
-- 'sending'.

CREATE TABLE bot_leases (
    bot_id      bigint PRIMARY KEY REFERENCES bots(id),
    owner       text NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX bot_leases_owner ON bot_leases (owner);

CREATE INDEX messages_sending ON messages (bot_id) WHERE status = 'sending';
