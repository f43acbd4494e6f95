-- bd_meta_payment.sql - the payment a Stripe object (Checkout Session or PaymentIntent)
-- stands for: found by its ids, else made from its metadata (tgm_bot, tgm_user,
-- tgm_product, as billingd sets them). NULL when it is none of tgm's.
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_meta_payment(o jsonb, p_kind text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    pid bigint;
    m jsonb := coalesce(o->'metadata', '{}');
    v_bot bigint;
    v_user bigint;
    pr products%ROWTYPE;
    cs text := CASE WHEN o->>'object' = 'checkout.session' THEN o->>'id' END;
    pi text := CASE WHEN o->>'object' = 'payment_intent' THEN o->>'id'
                    ELSE o->>'payment_intent' END;
BEGIN
    SELECT id INTO pid FROM payments
     WHERE (cs IS NOT NULL AND checkout_session_id = cs)
        OR (cs IS NULL AND pi IS NOT NULL AND payment_intent_id = pi)
     ORDER BY id LIMIT 1;
    IF FOUND THEN
        IF pi IS NOT NULL THEN
            UPDATE payments SET payment_intent_id = pi WHERE id = pid
               AND payment_intent_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM payments q WHERE q.payment_intent_id = pi);
        END IF;
        RETURN pid;
    END IF;
    IF NOT (m ? 'tgm_bot' AND m ? 'tgm_user' AND m ? 'tgm_product') THEN
        RETURN NULL;
    END IF;
    v_bot := (m->>'tgm_bot')::bigint;
    v_user := (m->>'tgm_user')::bigint;
    SELECT * INTO pr FROM products WHERE id = (m->>'tgm_product')::bigint AND bot_id = v_bot;
    IF NOT FOUND OR NOT EXISTS (SELECT 1 FROM bot_users WHERE bot_id = v_bot
                                                          AND user_id = v_user) THEN
        RETURN NULL;
    END IF;
    INSERT INTO payments (bot_id, user_id, product_id, kind, checkout_session_id,
                          payment_intent_id, amount, currency, credits, pass_seconds)
    VALUES (v_bot, v_user, pr.id, p_kind, cs, pi,
            coalesce((o->>'amount_total')::bigint, (o->>'amount')::bigint, pr.price),
            coalesce(o->>'currency', pr.currency), pr.credits, pr.pass_seconds)
    ON CONFLICT DO NOTHING RETURNING id INTO pid;
    IF pid IS NULL THEN  -- made meanwhile by another billingd
        SELECT id INTO pid FROM payments
         WHERE (cs IS NOT NULL AND checkout_session_id = cs)
            OR (cs IS NULL AND payment_intent_id = pi);
    END IF;
    RETURN pid;
END $$;
