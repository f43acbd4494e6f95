-- bd_autorecharge.sql - /autorecharge as billingd parsed it: off (p_on false), or on with
-- the package of p_credits credits, bought when the balance falls under p_below
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_autorecharge(p_seq bigint, p_on boolean, p_credits bigint,
                                           p_below bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    pr products%ROWTYPE;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    IF NOT p_on THEN
        UPDATE auto_recharge SET enabled = false, updated_at = now()
         WHERE bot_id = u.bot AND user_id = u.usr;
        PERFORM bd_notice(u.bot, u.usr, 'autorecharge_off');
        RETURN bd_finish(p_seq, 'autorecharge');
    END IF;
    SELECT * INTO pr FROM bd_product(u.bot, 'credits:' || p_credits);
    IF pr.id IS NULL THEN
        PERFORM bd_notice(u.bot, u.usr, 'autorecharge_no_package',
                          jsonb_build_object('credits', p_credits));
        RETURN bd_finish(p_seq, 'autorecharge');
    END IF;
    INSERT INTO auto_recharge (bot_id, user_id, product_id, threshold)
    VALUES (u.bot, u.usr, pr.id, p_below)
    ON CONFLICT (bot_id, user_id) DO UPDATE
       SET product_id = EXCLUDED.product_id, threshold = EXCLUDED.threshold,
           enabled = true, armed = true, updated_at = now();
    PERFORM bd_notice(u.bot, u.usr, 'autorecharge_on', bd_product_args(pr)
        || jsonb_build_object('below', p_below, 'card', EXISTS (SELECT 1 FROM stripe_customers
               WHERE bot_id = u.bot AND user_id = u.usr AND payment_method IS NOT NULL)));
    RETURN bd_finish(p_seq, 'autorecharge');
END $$;
