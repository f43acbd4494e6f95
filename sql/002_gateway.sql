-- 002_gateway.sql - what gatewayd's API needs beyond the core tables: finding
-- earlier messages of a bot to a chat (the gateway's bot choice, senderd's per-chat
-- order) and listing a tenant's messages by bot.

CREATE INDEX messages_bot_chat ON messages (bot_id, chat, id);
CREATE INDEX messages_tenant_bot ON messages (tenant_id, bot_id, id);

-- gatewayd caches API keys and LISTENs here: a revoked key leaves every cache at once.
CREATE FUNCTION api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tgm_api_keys', NEW.id::text);
    RETURN NEW;
END $$;
CREATE TRIGGER api_keys_changed AFTER UPDATE OF revoked_at, scope ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_notify();
