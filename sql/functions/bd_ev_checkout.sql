-- bd_ev_checkout.sql - apply a Stripe Checkout Session event
-- checkout.session.completed / async_payment_succeeded / async_payment_failed / expired
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_ev_checkout(p_type text, o jsonb, OUT outcome text, OUT bot bigint)
LANGUAGE plpgsql AS $$
DECLARE
    pid bigint := bd_meta_payment(o, 'checkout');
    p payments%ROWTYPE;
BEGIN
    IF pid IS NULL THEN
        outcome := 'ignored: not a tgm Checkout Session';
        RETURN;
    END IF;
    SELECT * INTO p FROM payments WHERE id = pid;
    bot := p.bot_id;
    IF p_type IN ('checkout.session.completed', 'checkout.session.async_payment_succeeded')
    THEN
        IF o->>'payment_status' NOT IN ('paid', 'no_payment_required') THEN
            outcome := 'pending: payment_status ' || coalesce(o->>'payment_status', 'none');
            bot := NULL;
            RETURN;
        END IF;
        outcome := CASE WHEN bd_grant(pid, 'stripe:cs:' || (o->>'id'), 'Stripe Checkout')
                        THEN 'granted' ELSE 'already granted' END;
        RETURN;
    END IF;
    IF p.status = 'paid' THEN
        outcome := 'ignored: already paid';
        bot := NULL;
        RETURN;
    END IF;
    IF p_type = 'checkout.session.expired' THEN
        UPDATE payments SET status = 'expired', updated_at = now() WHERE id = pid;
        outcome := 'expired';
        bot := NULL;
        RETURN;
    END IF;
    UPDATE payments SET status = 'failed', failure = 'async payment failed',
           updated_at = now() WHERE id = pid;
    IF bd_notice_once('failed:' || (o->>'id')) THEN
        PERFORM bd_notice(p.bot_id, p.user_id, 'payment_refused');
    END IF;
    outcome := 'told: async payment failed';
END $$;
