-- 048_chats_by_text.sql - the two chat lookups of senderd's claim, indexed by the form
-- they are asked in. A message keeps its chat as text (an id or an @username), so the
-- claim asks for a chat as (bot_id, chat_id::text); the indexes on (bot_id, chat_id)
-- gave it only the bot, and it read every blocked chat of the bot for each message it
-- claimed (10,000 blocked of 200,000 chats: 2.5 ms a message) and every chat of the
-- table for a moved group (a scan of chats per claim). Both are partial: blocked and
-- moved chats are a small part of a bot's chats.
CREATE INDEX chats_blocked_text ON chats (bot_id, (chat_id::text)) WHERE blocked_at IS NOT NULL;
CREATE INDEX chats_migrated_text ON chats (bot_id, (chat_id::text)) WHERE migrated_to IS NOT NULL;
