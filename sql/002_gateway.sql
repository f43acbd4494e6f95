-- 002_gateway.sql - what gatewayd's API needs beyond the core tables: finding
-- earlier messages of a bot to a chat (the gateway's bot choice, senderd's per-chat
-- order) and listing a tenant's messages by bot.

CREATE INDEX messages_bot_chat ON messages (bot_id, chat, id);
CREATE INDEX messages_tenant_bot ON messages (tenant_id, bot_id, id);
