-- bd_recharge_trigger.sql - trigger: queue an auto-recharge when a debit crosses the threshold
-- Auto-recharge trigger: a debit that leaves the balance under an armed threshold
-- makes one recharge attempt (and disarms); a balance back at or over it re-arms.
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_recharge_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    a auto_recharge%ROWTYPE;
BEGIN
    SELECT * INTO a FROM auto_recharge
     WHERE bot_id = NEW.bot_id AND user_id = NEW.user_id AND enabled FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF NEW.balance >= a.threshold THEN
        IF NOT a.armed THEN
            UPDATE auto_recharge SET armed = true
             WHERE bot_id = NEW.bot_id AND user_id = NEW.user_id;
        END IF;
    ELSIF NEW.kind = 'debit' AND NEW.credits < 0 AND a.armed THEN
        UPDATE auto_recharge SET armed = false
         WHERE bot_id = NEW.bot_id AND user_id = NEW.user_id;
        INSERT INTO recharges (bot_id, user_id, product_id, ledger_id)
        VALUES (NEW.bot_id, NEW.user_id, a.product_id, NEW.id);
        PERFORM pg_notify('tgm_billing', 'recharge');
    END IF;
    RETURN NULL;
END $$;
