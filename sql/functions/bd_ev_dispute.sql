-- bd_ev_dispute.sql - apply a Stripe dispute event
-- charge.dispute.created (and later dispute events): record; alert the bot's admin
-- group at once, the first time
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_ev_dispute(o jsonb, OUT outcome text, OUT bot bigint)
LANGUAGE plpgsql AS $$
DECLARE
    p payments%ROWTYPE;
    admin bigint;
    inserted boolean;
BEGIN
    SELECT * INTO p FROM payments WHERE payment_intent_id = o->>'payment_intent';
    IF NOT FOUND THEN
        outcome := 'wait: no payment with that PaymentIntent yet';
        RETURN;
    END IF;
    INSERT INTO disputes (id, payment_id, bot_id, user_id, charge_id, amount, currency,
                          reason, status, payload)
    VALUES (o->>'id', p.id, p.bot_id, p.user_id, o->>'charge', (o->>'amount')::bigint,
            o->>'currency', o->>'reason', o->>'status', o)
    ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, payload = EXCLUDED.payload
    RETURNING (xmax = 0) INTO inserted;
    IF NOT inserted THEN
        outcome := 'dispute updated: ' || coalesce(o->>'status', '');
        RETURN;
    END IF;
    admin := coalesce(bd_setting(p.bot_id, 'admin_chat_id', NULL)::bigint, 0);
    IF admin = 0 THEN
        outcome := 'dispute recorded (no admin group to alert)';
        RETURN;
    END IF;
    PERFORM bd_notice(p.bot_id, admin, 'dispute', jsonb_build_object(
        'amount', (o->>'amount')::bigint, 'currency', o->>'currency', 'user', p.user_id,
        'reason', o->>'reason', 'payment', o->>'payment_intent', 'dispute', o->>'id'));
    UPDATE disputes SET alerted_at = now() WHERE id = o->>'id';
    bot := p.bot_id;
    outcome := 'dispute alerted';
END $$;
