-- bd_notice_once.sql - true the first time key is seen (then it is remembered)
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_notice_once(p_key text) RETURNS boolean LANGUAGE sql AS $$
    WITH ins AS (INSERT INTO billing_notices (key) VALUES (p_key) ON CONFLICT DO NOTHING
                 RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM ins)
$$;
