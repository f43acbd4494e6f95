-- bd_ev_card.sql - apply a Stripe payment_method.attached event
-- payment_method.attached: the card saved for auto-recharge
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_ev_card(o jsonb, OUT outcome text, OUT bot bigint)
LANGUAGE plpgsql AS $$
DECLARE
    c stripe_customers%ROWTYPE;
BEGIN
    UPDATE stripe_customers SET payment_method = o->>'id',
           card_brand = o->'card'->>'brand', card_last4 = o->'card'->>'last4'
     WHERE customer_id = o->>'customer' RETURNING * INTO c;
    IF NOT FOUND THEN
        outcome := 'ignored: not a tgm customer';
        RETURN;
    END IF;
    IF bd_notice_once('card:' || (o->>'id')) THEN
        PERFORM bd_notice(c.bot_id, c.user_id, 'card_saved', jsonb_build_object(
            'brand', coalesce(c.card_brand, ''), 'last4', coalesce(c.card_last4, '-')));
        bot := c.bot_id;
    END IF;
    outcome := 'card saved';
END $$;
