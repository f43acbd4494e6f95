-- bd_recharge_paid.sql - the off-session PaymentIntent succeeded: grant (key: the
-- PaymentIntent, as its payment_intent.succeeded event would) and close the attempt
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_recharge_paid(p_id bigint, p_intent text, p_amount bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    r recharges%ROWTYPE;
    pr products%ROWTYPE;
    pid bigint;
BEGIN
    SELECT * INTO r FROM recharges WHERE id = p_id FOR UPDATE;
    SELECT * INTO pr FROM products WHERE id = r.product_id;
    INSERT INTO payments (bot_id, user_id, product_id, kind, payment_intent_id, recharge_id,
                          amount, currency, credits, pass_seconds)
    VALUES (r.bot_id, r.user_id, pr.id, 'recharge', p_intent, r.id,
            coalesce(p_amount, pr.price), pr.currency, pr.credits, pr.pass_seconds)
    ON CONFLICT (payment_intent_id) DO NOTHING;
    SELECT id INTO pid FROM payments WHERE payment_intent_id = p_intent;
    PERFORM bd_grant(pid, 'stripe:pi:' || p_intent, 'auto-recharge');
    UPDATE recharges SET status = 'paid', detail = p_intent, done_at = now(),
           claimed_until = NULL WHERE id = p_id;
    RETURN true;
END $$;
