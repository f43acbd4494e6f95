-- bd_autorecharge.sql - /autorecharge [on <credits> <below> | off]
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_autorecharge(p_seq bigint, p_args text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    w text[] := regexp_split_to_array(lower(trim(coalesce(p_args, ''))), '\s+');
    pr products%ROWTYPE;
    card stripe_customers%ROWTYPE;
    txt text;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    SELECT * INTO card FROM stripe_customers WHERE bot_id = u.bot AND user_id = u.usr;
    IF w[1] = 'off' THEN
        UPDATE auto_recharge SET enabled = false, updated_at = now()
         WHERE bot_id = u.bot AND user_id = u.usr;
        txt := 'Auto-recharge is off.';
    ELSIF w[1] = 'on' AND w[2] ~ '^[0-9]{1,12}$' AND w[3] ~ '^[0-9]{1,12}$'
          AND w[3]::bigint > 0 THEN
        SELECT * INTO pr FROM bd_product(u.bot, 'credits:' || w[2]);
        IF pr.id IS NULL THEN
            txt := format('There is no package of %s credits: /buy lists them.', w[2]);
        ELSE
            INSERT INTO auto_recharge (bot_id, user_id, product_id, threshold)
            VALUES (u.bot, u.usr, pr.id, w[3]::bigint)
            ON CONFLICT (bot_id, user_id) DO UPDATE
               SET product_id = EXCLUDED.product_id, threshold = EXCLUDED.threshold,
                   enabled = true, armed = true, updated_at = now();
            txt := format('Auto-recharge is on: when your balance falls under %s credits,'
                          ' %s are bought for %s with your saved card.%s', w[3], pr.credits,
                          bd_money(pr.price, pr.currency),
                          CASE WHEN card.payment_method IS NULL THEN ' No card is saved yet:'
                               || ' buy once with /buy' || pr.credits || ' and it is kept.'
                               ELSE '' END);
        END IF;
    ELSE
        txt := E'Usage: /autorecharge on <credits> <below>, e.g. /autorecharge on 100 10\n'
               '/autorecharge off';
    END IF;
    PERFORM bd_say(u.bot, u.usr, txt);
    RETURN bd_finish(p_seq, 'autorecharge');
END $$;
