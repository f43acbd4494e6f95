-- 041_payments_by_bot.sql - a bot's payments newest first, for GET /v1/bots/{id}/payments
-- (the dashboard's Billing page): without it the page walked every bot's payments
-- backwards by id and kept the bot's; and each payment's disputes, looked up per row of
-- that page (and by the foreign key when a payment goes).
CREATE INDEX payments_bot ON payments (bot_id, id);
CREATE INDEX disputes_payment ON disputes (payment_id);
