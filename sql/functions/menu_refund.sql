-- menu_refund.sql - a refund started from the admin menu (webhookd/menu_refund.c), once
-- the money went back (Stripe's refund, or refundStarPayment): the rest of the payment is
-- marked refunded and its credits not yet taken back are taken through the ledger, once
-- (key refund:menu:<payment>; a second press, or the charge.refunded event that follows,
-- finds the payment refunded and changes nothing), with its audit row (ref: the update)
-- and the user's notice. outcome: 'refunded', 'already' or 'unknown'.
CREATE OR REPLACE FUNCTION menu_refund(p_bot bigint, p_payment bigint, p_actor text,
                                       p_seq bigint, OUT outcome text, OUT taken bigint,
                                       OUT owed bigint, OUT balance bigint)
LANGUAGE plpgsql AS $$
DECLARE
    p payments%ROWTYPE;
    key text := 'refund:menu:' || p_payment;
    r record;
BEGIN
    SELECT * INTO p FROM payments WHERE id = p_payment AND bot_id = p_bot FOR UPDATE;
    IF NOT FOUND OR p.status <> 'paid' THEN
        outcome := 'unknown';
        RETURN;
    END IF;
    IF p.refunded_amount >= p.amount THEN
        outcome := 'already';
        RETURN;
    END IF;
    SELECT * INTO r FROM ledger_apply(p.bot_id, p.user_id, key, 'refund',
        -(p.credits - p.refunded_credits), 0, true, -(p.amount - p.refunded_amount),
        p.currency, 'refund from the admin menu');
    taken := -r.applied;
    owed := p.credits - p.refunded_credits - taken;
    balance := r.balance;
    UPDATE payments SET refunded_amount = p.amount, refunded_credits = p.credits,
           owed = payments.owed + menu_refund.owed, ledger_keys = ledger_keys || key,
           updated_at = now()
     WHERE id = p.id;
    PERFORM audit_write(NULL, p_bot, 'telegram', p_actor, 'refund', p_payment::text,
        jsonb_build_object('amount', p.amount - p.refunded_amount, 'currency', p.currency,
                           'kind', p.kind, 'taken', taken, 'owed', owed),
        'tg:' || p_seq || ':refund');
    IF NOT r.replayed THEN
        PERFORM bd_notice(p.bot_id, p.user_id, 'refund', jsonb_build_object(
            'amount', p.amount - p.refunded_amount, 'currency', p.currency, 'taken', taken,
            'owed', owed, 'balance', r.balance));
        PERFORM bd_low_check(p.bot_id, p.user_id);
    END IF;
    outcome := 'refunded';
END $$;
