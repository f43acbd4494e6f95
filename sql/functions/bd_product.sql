-- bd_product.sql - what /buy<N> (p_ref 'credits:N') or a buy:<id> button (p_ref 'id:<id>')
-- names, active, of the bot
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_product(p_bot bigint, p_ref text) RETURNS SETOF products
LANGUAGE sql STABLE AS $$
    SELECT * FROM products
     WHERE bot_id = p_bot AND active
       AND ((p_ref LIKE 'credits:%' AND credits = substr(p_ref, 9)::bigint
             AND pass_seconds = 0)
         OR (p_ref LIKE 'id:%' AND id = substr(p_ref, 4)::bigint))
     ORDER BY id LIMIT 1
$$;
