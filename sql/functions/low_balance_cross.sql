-- low_balance_cross.sql - the one low-balance rule (webhookd after a debit, bd_low_check
-- after billingd's changes): warn once per crossing under p_low (0: never), which
-- bot_users.low_warned remembers. A row (warn, credits) when low_warned changed; warn
-- is true when the user just fell under p_low. The words are C's (common/text.c).
CREATE OR REPLACE FUNCTION low_balance_cross(p_bot bigint, p_user bigint, p_low bigint,
                                             OUT warn boolean, OUT credits bigint)
RETURNS SETOF record LANGUAGE sql AS $$
    UPDATE bot_users u SET low_warned = (u.credits < p_low)
     WHERE p_low > 0 AND u.bot_id = p_bot AND u.user_id = p_user
       AND u.low_warned IS DISTINCT FROM (u.credits < p_low)
    RETURNING u.low_warned, u.credits
$$;
