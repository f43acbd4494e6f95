-- bd_star_refund.sql - a Telegram Stars payment refunded (docs/billing.md): by the bot's
-- owner through POST /v1/bots/{id}/payments/{payment_id}/refund (refundStarPayment), or
-- told by Telegram (a refunded_payment message). Either way, once: the credits the
-- payment gave are taken back through the ledger (key tg:refund:<charge id>; never
-- below zero: the rest is owed), the payment marked refunded and the user told (notice
-- refund). A second call, from the other side or the same, takes nothing.
CREATE OR REPLACE FUNCTION bd_star_refund(p_bot bigint, p_charge text, OUT outcome text,
                                          OUT taken bigint, OUT owed bigint)
LANGUAGE plpgsql AS $$
DECLARE
    p payments%ROWTYPE;
    key text := 'tg:refund:' || p_charge;
    r record;
BEGIN
    SELECT * INTO p FROM payments WHERE bot_id = p_bot AND telegram_charge_id = p_charge
       AND kind = 'stars' FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'ignored: no such Stars payment';
        RETURN;
    END IF;
    IF p.refunded_amount >= p.amount THEN
        outcome := 'ignored: already refunded';
        taken := 0;
        owed := 0;
        RETURN;
    END IF;
    SELECT * INTO r FROM ledger_apply(p.bot_id, p.user_id, key, 'refund',
        -(p.credits - p.refunded_credits), 0, true, -(p.amount - p.refunded_amount),
        p.currency, 'Telegram Stars refund');
    taken := -r.applied;
    owed := p.credits - p.refunded_credits + r.applied;
    UPDATE payments SET refunded_amount = p.amount, refunded_credits = p.credits,
           owed = payments.owed + (p.credits - p.refunded_credits + r.applied),
           ledger_keys = ledger_keys || key, updated_at = now()
     WHERE id = p.id;
    IF NOT r.replayed THEN
        PERFORM bd_notice(p.bot_id, p.user_id, 'refund', jsonb_build_object(
            'amount', p.amount - p.refunded_amount, 'currency', p.currency,
            'taken', taken, 'owed', owed, 'balance', r.balance));
        PERFORM bd_low_check(p.bot_id, p.user_id);
    END IF;
    outcome := format('refunded: %s credits taken, %s owed', taken, owed);
END $$;
