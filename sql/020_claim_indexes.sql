-- 020_claim_indexes.sql - what a lane's claim reads, indexed so that its cost follows the
-- queue, never the history.
--
-- "Is an earlier message of this chat still open?" walked every earlier message of the
-- chat (messages_bot_chat holds them all, sent ones included): a chat with 200,000 sent
-- messages made each claim of it take 200 ms. This index holds the open ones only.
CREATE INDEX messages_chat_open ON messages (bot_id, chat, id)
    WHERE status IN ('queued', 'retrying', 'sending');

-- "When does the next one fall due?" scanned every queued row of the bot. Only rows
-- scheduled later than their creation (send_at, a retry, a requeue) can lie in the future.
CREATE INDEX messages_later ON messages (bot_id, not_before)
    WHERE status IN ('queued', 'retrying') AND not_before > created_at;
