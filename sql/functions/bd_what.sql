-- bd_what.sql - what a product gives, for people: '10 credits', '7 days of unlimited access'
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_what(p_credits bigint, p_pass_seconds bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws(' + ',
        CASE WHEN p_credits > 0 THEN p_credits || ' credits' END,
        CASE WHEN p_pass_seconds >= 86400 AND p_pass_seconds % 86400 = 0
             THEN (p_pass_seconds / 86400) || ' day(s) of unlimited access'
             WHEN p_pass_seconds > 0
             THEN (p_pass_seconds / 3600) || ' hour(s) of unlimited access' END)
$$;
