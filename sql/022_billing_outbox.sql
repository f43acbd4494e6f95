-- 022_billing_outbox.sql - what billingd tells people is recorded as a notice: a name of
-- the text catalog (common/text.c) and its arguments, in the same transaction as the
-- change it tells of. billingd renders each notice in C and queues the message
-- (billingd/notice.c), in the order recorded. The functions that built texts in SQL go.
CREATE TABLE billing_outbox (
    id          bigserial PRIMARY KEY,
    bot_id      bigint NOT NULL,
    chat_id     bigint NOT NULL,
    notice      text NOT NULL,
    args        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

DROP FUNCTION IF EXISTS bd_money(bigint, text);
DROP FUNCTION IF EXISTS bd_what(bigint, bigint);
DROP FUNCTION IF EXISTS bd_say(bigint, bigint, text, jsonb);
DROP FUNCTION IF EXISTS bd_say_finish(bigint, text, text);
DROP FUNCTION IF EXISTS bd_invoice(bigint, bigint, products);
DROP FUNCTION IF EXISTS bd_autorecharge(bigint, text);
DROP FUNCTION IF EXISTS bd_precheckout(bigint);
DELETE FROM schema_functions
 WHERE name IN ('bd_money', 'bd_what', 'bd_say', 'bd_say_finish', 'bd_invoice');
