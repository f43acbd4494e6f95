-- bd_recharge_link.sql - the card could not be charged off-session: send a Checkout link
-- instead (p_session/p_url; NULL when none could be made) and say why: p_why is a
-- catalog name (recharge_why_*) and p_why_args its {placeholders} (or NULL), worded by
-- billingd when it renders the notice, in the user's language (first created by
-- 008_billing.sql; its four-argument form, p_why the words, dropped by 035; this file
-- holds its current text)
CREATE OR REPLACE FUNCTION bd_recharge_link(p_id bigint, p_why text, p_why_args jsonb,
                                            p_session text, p_url text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    r recharges%ROWTYPE;
    pr products%ROWTYPE;
BEGIN
    SELECT * INTO r FROM recharges WHERE id = p_id AND status = 'pending' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT * INTO pr FROM products WHERE id = r.product_id;
    IF p_session IS NOT NULL THEN
        INSERT INTO payments (bot_id, user_id, product_id, kind, checkout_session_id,
                              recharge_id, url, amount, currency, credits, pass_seconds)
        VALUES (r.bot_id, r.user_id, pr.id, 'checkout', p_session, r.id, p_url, pr.price,
                pr.currency, pr.credits, pr.pass_seconds)
        ON CONFLICT (checkout_session_id) DO NOTHING;
    END IF;
    PERFORM bd_notice(r.bot_id, r.user_id, 'recharge_failed',
        coalesce(p_why_args, '{}') || jsonb_build_object('why', p_why, 'url', p_url,
            'price', pr.price, 'currency', pr.currency));
    UPDATE recharges SET status = CASE WHEN p_session IS NULL THEN 'failed' ELSE 'link' END,
           detail = p_why || coalesce(' ' || p_why_args::text, ''), done_at = now(),
           claimed_until = NULL
     WHERE id = p_id;
    RETURN true;
END $$;
