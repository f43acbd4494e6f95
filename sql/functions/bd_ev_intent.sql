-- bd_ev_intent.sql - apply a Stripe PaymentIntent event
-- payment_intent.succeeded (auto-recharge only: Checkout grants by its Session) and
-- payment_intent.payment_failed (tell the user, unless billingd told them already)
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_ev_intent(p_type text, o jsonb, OUT outcome text, OUT bot bigint)
LANGUAGE plpgsql AS $$
DECLARE
    recharge boolean := o->'metadata'->>'tgm_kind' = 'recharge';
    pid bigint;
    p payments%ROWTYPE;
    err jsonb := o->'last_payment_error';
BEGIN
    IF p_type = 'payment_intent.succeeded' THEN
        IF NOT recharge THEN
            outcome := 'ignored: Checkout grants by its Session';
            RETURN;
        END IF;
        pid := bd_meta_payment(o, 'recharge');
        IF pid IS NULL THEN
            outcome := 'ignored: not a tgm PaymentIntent';
            RETURN;
        END IF;
        SELECT * INTO p FROM payments WHERE id = pid;
        bot := p.bot_id;
        outcome := CASE WHEN bd_grant(pid, 'stripe:pi:' || (o->>'id'), 'auto-recharge')
                        THEN 'granted' ELSE 'already granted' END;
        RETURN;
    END IF;
    IF recharge THEN
        outcome := 'ignored: billingd handles its own recharge failures';
        RETURN;
    END IF;
    IF NOT (o->'metadata' ? 'tgm_bot' AND o->'metadata' ? 'tgm_user') THEN
        outcome := 'ignored: not a tgm PaymentIntent';
        RETURN;
    END IF;
    bot := (o->'metadata'->>'tgm_bot')::bigint;
    IF NOT bd_notice_once('failed:' || (o->>'id') || ':' || coalesce(err->>'charge', '')) THEN
        outcome := 'already told';
        bot := NULL;
        RETURN;
    END IF;
    PERFORM bd_notice(bot, (o->'metadata'->>'tgm_user')::bigint, 'payment_failed',
        jsonb_build_object('why', err->>'message'));
    outcome := 'told: payment failed';
END $$;
