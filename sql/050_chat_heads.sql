-- 050_chat_heads.sql - a chat's open messages by priority, so that a claim can find the
-- head of each chat's line without walking the line.
--
-- A claim walked the bot's due messages in priority order and passed over every one held
-- behind its chat's open message: with 30,000 queued to 3 chats (a bot posting to its
-- channels), each claim read all 30,000 to find the 3 heads (130-160 ms), and a bot with
-- a held backlog claims after every send. sql/functions/sd_due.sql now stops that walk
-- early and, when it found too few, goes chat by chat instead: the first open message
-- of each chat and priority is one lookup in this index. The check "is an earlier
-- message of this chat open?" reads it by priority too, each one a bounded range.
DROP INDEX messages_chat_open;
CREATE INDEX messages_chat_open ON messages (bot_id, chat, priority, id)
    WHERE status IN ('queued', 'retrying', 'sending');
-- each partition's index named after it, as 027 named them (messages_chat_open_p0)
DO $$
DECLARE x record;
BEGIN
    FOR x IN SELECT c.relname AS idx, t.relname AS tab FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_index ix ON ix.indexrelid = c.oid
             JOIN pg_class t ON t.oid = ix.indrelid
             WHERE i.inhparent = 'messages_chat_open'::regclass LOOP
        EXECUTE format('ALTER INDEX %I RENAME TO %I', x.idx,
                       'messages_chat_open_' || substr(x.tab, length('messages_') + 1));
    END LOOP;
END $$;
