-- bd_grant.sql - a payment is paid: grant its product once (ledger key p_key), record the
-- payment as paid, record the notice of the new balance. Returns whether this call granted.
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_grant(p_payment bigint, p_key text, p_reason text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    p payments%ROWTYPE;
    r record;
BEGIN
    SELECT * INTO p FROM payments WHERE id = p_payment FOR UPDATE;
    SELECT * INTO r FROM ledger_apply(p.bot_id, p.user_id, p_key,
        CASE WHEN p.credits = 0 THEN 'pass' ELSE 'grant' END, p.credits, p.pass_seconds,
        false, p.amount, p.currency, p_reason);
    UPDATE payments SET status = 'paid', paid_at = coalesce(paid_at, now()),
           grant_key = p_key, updated_at = now(),
           ledger_keys = CASE WHEN p_key = ANY(ledger_keys) THEN ledger_keys
                              ELSE ledger_keys || p_key END
     WHERE id = p_payment;
    IF r.replayed THEN
        RETURN false;
    END IF;
    PERFORM bd_notice(p.bot_id, p.user_id, 'paid', jsonb_build_object(
        'credits', p.credits, 'pass_seconds', p.pass_seconds, 'balance', r.balance,
        'pass_until', CASE WHEN r.pass_until > now()
                           THEN extract(epoch FROM r.pass_until)::bigint END));
    PERFORM bd_low_check(p.bot_id, p.user_id);
    RETURN true;
END $$;
