-- bd_offer.sql - the purchase of a product is ready: record the Checkout Session (when
-- there is one), send its link as a URL button, and a Stars invoice when the product
-- has a Stars price; finish the update
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
        PERFORM bd_say(u.bot, u.usr, format('%s: %s for %s.%s', pr.label,
            bd_what(pr.credits, pr.pass_seconds), bd_money(pr.price, pr.currency),
            coalesce(E'\n' || p_note, '')),
            jsonb_build_object('inline_keyboard', jsonb_build_array(jsonb_build_array(
                jsonb_build_object('text', 'Pay ' || bd_money(pr.price, pr.currency),
                                   'url', p_url)))));
    ELSIF p_note IS NOT NULL THEN
        PERFORM bd_say(u.bot, u.usr, p_note);
    END IF;
    IF pr.stars_price IS NOT NULL THEN
        PERFORM bd_invoice(u.bot, u.usr, pr);
    END IF;
    RETURN bd_finish(p_seq, CASE WHEN p_session IS NOT NULL THEN 'checkout ' || p_session
                                 WHEN pr.stars_price IS NOT NULL THEN 'stars invoice'
                                 ELSE 'not offered' END);
END $$;
