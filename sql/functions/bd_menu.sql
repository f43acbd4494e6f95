-- bd_menu.sql - /buy and the "buy" button: the active products (billingd
-- makes them buttons, buy:<id>)
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_menu(p_seq bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    items jsonb;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    SELECT jsonb_agg(bd_product_args(p) ORDER BY p.credits, p.pass_seconds, p.id)
      INTO items FROM products p WHERE p.bot_id = u.bot AND p.active;
    PERFORM bd_notice(u.bot, u.usr, 'menu',
                      jsonb_build_object('products', coalesce(items, '[]')));
    RETURN bd_finish(p_seq, 'menu');
END $$;
