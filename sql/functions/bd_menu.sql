-- bd_menu.sql - /buy and the "buy" button: the active products as buttons (buy:<id>)
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_menu(p_seq bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    kb jsonb;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    SELECT jsonb_agg(jsonb_build_array(jsonb_build_object(
               'text', format('%s – %s', label, bd_money(price, currency))
                       || CASE WHEN stars_price IS NOT NULL
                               THEN format(' or %s', bd_money(stars_price, 'XTR')) ELSE '' END,
               'callback_data', 'buy:' || id)) ORDER BY credits, pass_seconds, id)
      INTO kb FROM products WHERE bot_id = u.bot AND active;
    IF kb IS NULL THEN
        PERFORM bd_say(u.bot, u.usr, 'Nothing is for sale yet.');
    ELSE
        PERFORM bd_say(u.bot, u.usr, 'Choose what to buy:',
                       jsonb_build_object('inline_keyboard', kb));
    END IF;
    RETURN bd_finish(p_seq, 'menu');
END $$;
