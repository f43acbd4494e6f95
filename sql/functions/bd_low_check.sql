-- bd_low_check.sql - webhookd's low-balance rule for billingd's changes: warn once per
-- crossing under the bot's low_balance (bot_users.low_warned remembers it). True when
-- it warned.
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_low_check(p_bot bigint, p_user bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    low bigint := coalesce(bd_setting(p_bot, 'low_balance', '0')::bigint, 0);
    warned boolean;
    bal bigint;
BEGIN
    IF low <= 0 THEN
        RETURN false;
    END IF;
    UPDATE bot_users u SET low_warned = (u.credits < low)
     WHERE u.bot_id = p_bot AND u.user_id = p_user
       AND u.low_warned IS DISTINCT FROM (u.credits < low)
    RETURNING u.low_warned, u.credits INTO warned, bal;
    IF coalesce(warned, false) THEN
        PERFORM bd_say(p_bot, p_user, format('⚠️ Your balance is low: %s credits. /buy to'
                                             ' top up.', bal));
        RETURN true;
    END IF;
    RETURN false;
END $$;
