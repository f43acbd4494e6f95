-- bd_return.sql - the user is back from Checkout's success page: fulfil from the Session
-- as billingd just retrieved it (o; NULL when there is none), exactly as its webhook
-- would (the same ledger key: one grant, whichever comes first), and say where it is
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_return(p_seq bigint, o jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    r record;
    bal bigint;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    IF o IS NULL THEN
        PERFORM bd_notice(u.bot, u.usr, 'welcome_back');
        RETURN bd_finish(p_seq, 'return: no such payment');
    END IF;
    SELECT * INTO r FROM bd_ev_checkout('checkout.session.completed', o);
    IF r.outcome = 'already granted' THEN
        SELECT credits INTO bal FROM bot_users WHERE bot_id = u.bot AND user_id = u.usr;
        PERFORM bd_notice(u.bot, u.usr, 'payment_confirmed',
                          jsonb_build_object('balance', bal));
    ELSIF r.outcome LIKE 'pending%' THEN
        PERFORM bd_notice(u.bot, u.usr, 'payment_pending');
    END IF;
    RETURN bd_finish(p_seq, 'return: ' || r.outcome);
END $$;
