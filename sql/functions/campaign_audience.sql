-- campaign_audience.sql - the users a campaign reaches now, one row per person (a
-- person several of its bots know is reached by the first of them in bot_ids). Banned
-- users and chats marked blocked (the user blocked the bot, or the chat is gone) are
-- always left out. A campaign that retries another reaches that one's recipients whose
-- message failed or expired (as kept on the recipient once pruned); any other, the users of its bots its audience's filters
-- keep (docs/campaigns.md): languages, last_seen_after/before, first_seen_after/before,
-- balance_min/max, paid, tags (the user's conversation with the bot has one of these
-- tags of the tenant), exclude_tags (it has none of them) and tiers (bot_user_tier).
CREATE OR REPLACE FUNCTION campaign_audience(c campaigns)
RETURNS SETOF bot_users LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (u.user_id) u.* FROM bot_users u
     WHERE u.bot_id = ANY(c.bot_ids) AND u.banned_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM chats h WHERE h.bot_id = u.bot_id
                        AND h.chat_id = u.user_id AND h.blocked_at IS NOT NULL)
       AND (c.retry_of IS NULL OR EXISTS (SELECT 1 FROM campaign_recipients r
             LEFT JOIN messages m ON m.id = r.message_id WHERE r.campaign_id = c.retry_of
             AND r.bot_id = u.bot_id AND r.user_id = u.user_id
             AND coalesce(m.status, r.status) IN ('failed', 'expired')))
       AND (c.audience->'languages' IS NULL OR lower(split_part(coalesce(u.language_code, ''),
             '-', 1)) IN (SELECT lower(x) FROM jsonb_array_elements_text(c.audience->'languages') x))
       AND (c.audience->>'last_seen_after' IS NULL
            OR u.last_seen_at >= (c.audience->>'last_seen_after')::timestamptz)
       AND (c.audience->>'last_seen_before' IS NULL
            OR u.last_seen_at < (c.audience->>'last_seen_before')::timestamptz)
       AND (c.audience->>'first_seen_after' IS NULL
            OR u.first_seen_at >= (c.audience->>'first_seen_after')::timestamptz)
       AND (c.audience->>'first_seen_before' IS NULL
            OR u.first_seen_at < (c.audience->>'first_seen_before')::timestamptz)
       AND (c.audience->>'balance_min' IS NULL
            OR u.credits >= (c.audience->>'balance_min')::bigint)
       AND (c.audience->>'balance_max' IS NULL
            OR u.credits <= (c.audience->>'balance_max')::bigint)
       AND (c.audience->>'paid' IS NULL OR (c.audience->>'paid')::boolean = EXISTS (
             SELECT 1 FROM payments p WHERE p.bot_id = u.bot_id AND p.user_id = u.user_id
             AND p.status = 'paid'))
       AND (c.audience->'tags' IS NULL OR EXISTS (SELECT 1 FROM conversations v
             JOIN conversation_tags ct ON ct.conversation_id = v.id
             JOIN tags t ON t.id = ct.tag_id AND t.tenant_id = c.tenant_id
             WHERE v.bot_id = u.bot_id AND v.chat_id = u.user_id
             AND t.id IN (SELECT x::bigint FROM jsonb_array_elements_text(c.audience->'tags') x)))
       AND (c.audience->'exclude_tags' IS NULL OR NOT EXISTS (SELECT 1 FROM conversations v
             JOIN conversation_tags ct ON ct.conversation_id = v.id
             JOIN tags t ON t.id = ct.tag_id AND t.tenant_id = c.tenant_id
             WHERE v.bot_id = u.bot_id AND v.chat_id = u.user_id
             AND t.id IN (SELECT x::bigint
                            FROM jsonb_array_elements_text(c.audience->'exclude_tags') x)))
       AND (c.audience->'tiers' IS NULL OR bot_user_tier(u.bot_id, u.spent, u.messages)
             IN (SELECT jsonb_array_elements_text(c.audience->'tiers')))
     ORDER BY u.user_id, array_position(c.bot_ids, u.bot_id)
$$;
