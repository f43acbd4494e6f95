-- bd_customer_save.sql - remember a user's Stripe customer (the first one made wins); the
-- customer id to use
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_customer_save(p_bot bigint, p_user bigint, p_customer text) RETURNS text
LANGUAGE sql AS $$
    INSERT INTO stripe_customers (bot_id, user_id, customer_id)
    VALUES (p_bot, p_user, p_customer) ON CONFLICT DO NOTHING;
    SELECT customer_id FROM stripe_customers WHERE bot_id = p_bot AND user_id = p_user;
$$;
