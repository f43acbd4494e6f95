-- bd_ev_dispatch.sql - one event to its handler
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_ev_dispatch(e stripe_events, OUT outcome text, OUT bot bigint)
LANGUAGE plpgsql AS $$
DECLARE
    o jsonb := e.payload->'data'->'object';
BEGIN
    IF e.type LIKE 'checkout.session.%' THEN
        SELECT * INTO outcome, bot FROM bd_ev_checkout(e.type, o);
    ELSIF e.type IN ('payment_intent.succeeded', 'payment_intent.payment_failed') THEN
        SELECT * INTO outcome, bot FROM bd_ev_intent(e.type, o);
    ELSIF e.type = 'payment_method.attached' THEN
        SELECT * INTO outcome, bot FROM bd_ev_card(o);
    ELSIF e.type = 'charge.refunded' THEN
        SELECT * INTO outcome, bot FROM bd_ev_refund(o);
    ELSIF e.type LIKE 'charge.dispute.%' THEN
        SELECT * INTO outcome, bot FROM bd_ev_dispute(o);
    ELSE
        outcome := 'ignored: ' || e.type;
    END IF;
END $$;
