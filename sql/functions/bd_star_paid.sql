-- bd_star_paid.sql - successful_payment in Stars: grant once (key: the Telegram charge id,
-- kept for refundStarPayment)
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_star_paid(p_seq bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    sp jsonb;
    part text[];
    pr products%ROWTYPE;
    pid bigint;
    charge text;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN NULL;
    END IF;
    sp := u.payload->'message'->'successful_payment';
    charge := sp->>'telegram_payment_charge_id';
    part := string_to_array(coalesce(sp->>'invoice_payload', ''), ':');
    IF part[1] = 'tgm' AND part[2] ~ '^[0-9]{1,18}$' THEN
        SELECT * INTO pr FROM products WHERE id = part[2]::bigint AND bot_id = u.bot;
    END IF;
    IF pr.id IS NULL OR charge IS NULL THEN
        PERFORM bd_finish(p_seq, 'failed: a payment for an unknown product');
        RETURN 'failed: a payment for an unknown product';
    END IF;
    INSERT INTO payments (bot_id, user_id, product_id, kind, telegram_charge_id, update_seq,
                          amount, currency, credits, pass_seconds)
    VALUES (u.bot, u.usr, pr.id, 'stars', charge, p_seq, (sp->>'total_amount')::bigint,
            sp->>'currency', pr.credits, pr.pass_seconds)
    ON CONFLICT (telegram_charge_id) DO NOTHING;
    SELECT id INTO pid FROM payments WHERE telegram_charge_id = charge;
    PERFORM bd_grant(pid, 'tg:star:' || charge, 'Telegram Stars');
    PERFORM bd_finish(p_seq, 'stars paid ' || charge);
    RETURN 'stars paid';
END $$;
