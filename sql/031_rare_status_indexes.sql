-- 031_rare_status_indexes.sql - the messages that ended failed, expired or canceled, for
-- GET /v1/messages?status=... (the dashboard's "failed" filter): without these, a bot
-- with few or none of them had its whole history walked (0.8 s on a million messages).
-- Partial, so only those rare transitions pay for them.
CREATE INDEX messages_rare_tenant ON messages (tenant_id, status, id)
    WHERE status IN ('failed', 'expired', 'canceled');
CREATE INDEX messages_rare_bot ON messages (bot_id, status, id)
    WHERE status IN ('failed', 'expired', 'canceled');
