-- bd_ev_refund.sql - apply a Stripe charge.refunded event
-- charge.refunded: take back the refunded share of the credits (never below zero: the
-- rest is owed). amount_refunded is cumulative, so the share is recomputed from it and
-- only what was not taken yet is taken: events about earlier refunds change nothing.
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_ev_refund(o jsonb, OUT outcome text, OUT bot bigint)
LANGUAGE plpgsql AS $$
DECLARE
    p payments%ROWTYPE;
    target bigint;
    key text;
    r record;
BEGIN
    SELECT * INTO p FROM payments WHERE payment_intent_id = o->>'payment_intent' FOR UPDATE;
    IF NOT FOUND OR p.status <> 'paid' THEN
        outcome := 'wait: the payment is not granted yet';
        RETURN;
    END IF;
    IF (o->>'amount_refunded')::bigint <= p.refunded_amount THEN
        outcome := 'ignored: refund already applied';
        RETURN;
    END IF;
    target := CASE WHEN (o->>'amount_refunded')::bigint >= (o->>'amount')::bigint
                   THEN p.credits
                   ELSE p.credits * (o->>'amount_refunded')::bigint / (o->>'amount')::bigint
              END;
    key := format('stripe:refund:%s:%s', o->>'id', o->>'amount_refunded');
    SELECT * INTO r FROM ledger_apply(p.bot_id, p.user_id, key, 'refund',
        -(target - p.refunded_credits), 0, true, -(o->>'amount_refunded')::bigint
        + p.refunded_amount, o->>'currency', 'Stripe refund');
    UPDATE payments SET refunded_amount = (o->>'amount_refunded')::bigint,
           refunded_credits = target, owed = owed + (target - p.refunded_credits + r.applied),
           ledger_keys = ledger_keys || key, updated_at = now()
     WHERE id = p.id;
    bot := p.bot_id;
    IF NOT r.replayed THEN
        PERFORM bd_notice(p.bot_id, p.user_id, 'refund', jsonb_build_object(
            'amount', (o->>'amount_refunded')::bigint - p.refunded_amount,
            'currency', o->>'currency', 'taken', -r.applied,
            'owed', target - p.refunded_credits + r.applied, 'balance', r.balance));
        PERFORM bd_low_check(p.bot_id, p.user_id);
    END IF;
    outcome := format('refunded: %s credits taken, %s owed', -r.applied,
                      target - p.refunded_credits + r.applied);
END $$;
