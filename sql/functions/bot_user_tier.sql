-- bot_user_tier.sql - a user's tier in a bot: 'vip', 'regular' or 'new', by the bot's
-- settings (docs/tiers.md): tier_by says what counts (spend: the credits the user spent,
-- bot_users.spent; messages: the messages they sent, bot_users.messages), tier_regular
-- and tier_vip the counts from which a user is Regular and VIP. Words for people are the
-- catalog's (tier_new, tier_regular, tier_vip); campaigns filter on it (audience.tiers).
CREATE OR REPLACE FUNCTION bot_user_tier(p_bot bigint, p_spent bigint, p_messages bigint)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN x.n >= bd_setting(p_bot, 'tier_vip', NULL)::bigint THEN 'vip'
                WHEN x.n >= bd_setting(p_bot, 'tier_regular', NULL)::bigint THEN 'regular'
                ELSE 'new' END
      FROM (SELECT CASE WHEN bd_setting(p_bot, 'tier_by', NULL) = 'messages' THEN p_messages
                        ELSE p_spent END AS n) x
$$;
