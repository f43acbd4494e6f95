-- bd_star_refunded.sql - a refunded_payment message handed over by webhookd: the Stars
-- payment it names is refunded once (bd_star_refund), and the update finished. Its
-- outcome (NULL: not open).
CREATE OR REPLACE FUNCTION bd_star_refunded(p_seq bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    res record;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT * INTO res FROM bd_star_refund(u.bot,
        u.payload->'message'->'refunded_payment'->>'telegram_payment_charge_id');
    PERFORM bd_finish(p_seq, 'stars refunded: ' || res.outcome);
    RETURN res.outcome;
END $$;
