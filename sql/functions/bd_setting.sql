-- bd_setting.sql - a bot's setting as text, or the default given
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_setting(p_bot bigint, p_key text, p_default text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT b.settings->>p_key FROM bots b WHERE b.id = p_bot), p_default)
$$;
