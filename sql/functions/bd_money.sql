-- bd_money.sql - 500, 'usd' -> '5.00 USD'; Stars as '50 ⭐'
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_money(p_amount bigint, p_currency text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_amount IS NULL THEN ''
        WHEN upper(p_currency) = 'XTR' THEN p_amount || ' ⭐'
        WHEN lower(p_currency) IN ('jpy', 'krw', 'vnd', 'clp', 'isk', 'huf', 'twd', 'ugx')
            THEN p_amount || ' ' || upper(p_currency)
        ELSE to_char(p_amount / 100.0, 'FM999999999990.00') || ' ' || upper(p_currency)
    END
$$;
