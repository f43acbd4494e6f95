-- bd_low_check.sql - the low-balance rule (low_balance_cross) for billingd's changes,
-- with the bot's low_balance. True when it warned.
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_low_check(p_bot bigint, p_user bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    low bigint := coalesce(bd_setting(p_bot, 'low_balance', NULL)::bigint, 0);
    warned boolean;
    bal bigint;
BEGIN
    SELECT c.warn, c.credits INTO warned, bal FROM low_balance_cross(p_bot, p_user, low) c;
    IF coalesce(warned, false) THEN
        PERFORM bd_notice(p_bot, p_user, 'low_balance', jsonb_build_object('credits', bal));
        RETURN true;
    END IF;
    RETURN false;
END $$;
