-- 003_senderd.sql - what senderd's lanes need: a lease per bot (exactly one lane per
-- bot in the whole cluster), a quick way to the rows a dead owner left in 'sending',
-- and a mark of the sends that may have left.

CREATE TABLE bot_leases (
    bot_id      bigint PRIMARY KEY REFERENCES bots(id),
    owner       text NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX bot_leases_owner ON bot_leases (owner);

CREATE INDEX messages_sending ON messages (bot_id) WHERE status = 'sending';

-- Set, and committed, just before a request leaves when [senderd] ambiguous = fail:
-- after a crash only such rows may have reached Telegram (the others were claimed
-- but never sent, and go again).
ALTER TABLE messages ADD COLUMN send_started_at timestamptz;
