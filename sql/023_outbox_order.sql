-- 023_outbox_order.sql - billingd sends a chat's notices in the order recorded: a notice
-- waits while an older one of its chat is in billing_outbox. That check reads this
-- index, so a backlog of notices (billingd down a while) costs a lookup per notice,
-- not a scan of the backlog.
CREATE INDEX billing_outbox_chat ON billing_outbox (bot_id, chat_id, id);
