-- bd_setting.sql - a bot's setting as text: its own value, else the default that
-- bot_setting_defaults holds (written by tgmctl migrate from common/botset.c), else
-- p_default
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_setting(p_bot bigint, p_key text, p_default text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT b.settings->>p_key FROM bots b WHERE b.id = p_bot),
                    (SELECT d.value #>> '{}' FROM bot_setting_defaults d WHERE d.key = p_key),
                    p_default)
$$;
