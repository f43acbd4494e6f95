-- bd_offer.sql - the purchase of a product is ready: record the Checkout Session (when
-- there is one), send its link as a URL button, and a Stars invoice when the product
-- has a Stars price (as notices; p_note: a catalog text's name); finish the update
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_offer(p_seq bigint, p_product bigint, p_session text, p_url text,
                         p_note text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    pr products%ROWTYPE;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    SELECT * INTO pr FROM products WHERE id = p_product;
    IF p_session IS NOT NULL THEN
        INSERT INTO payments (bot_id, user_id, product_id, kind, checkout_session_id,
                              update_seq, url, amount, currency, credits, pass_seconds)
        VALUES (u.bot, u.usr, pr.id, 'checkout', p_session, p_seq, p_url, pr.price,
                pr.currency, pr.credits, pr.pass_seconds)
        ON CONFLICT (checkout_session_id) DO NOTHING;
        PERFORM bd_notice(u.bot, u.usr, 'offer', bd_product_args(pr)
                          || jsonb_build_object('url', p_url, 'note', p_note));
    ELSIF p_note IS NOT NULL THEN
        PERFORM bd_notice(u.bot, u.usr, p_note);
    END IF;
    IF pr.stars_price IS NOT NULL THEN
        PERFORM bd_notice(u.bot, u.usr, 'invoice', bd_product_args(pr));
    END IF;
    RETURN bd_finish(p_seq, CASE WHEN p_session IS NOT NULL THEN 'checkout ' || p_session
                                 WHEN pr.stars_price IS NOT NULL THEN 'stars invoice'
                                 ELSE 'not offered' END);
END $$;
