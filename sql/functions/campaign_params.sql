-- campaign_params.sql - the Telegram parameters of a campaign's message to one user: the
-- campaign's checked template with the user's chat_id and its text or caption rendered
-- (campaign_render) with the user's names and balance (p_credits: after the gift).
CREATE OR REPLACE FUNCTION campaign_params(p_params jsonb, p_user bot_users, p_credits bigint,
                                           p_gift bigint)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT p_params || jsonb_build_object('chat_id', p_user.user_id)
        || CASE WHEN p_params ? 'text' OR p_params ? 'caption' THEN jsonb_build_object(
               CASE WHEN p_params ? 'text' THEN 'text' ELSE 'caption' END,
               campaign_render(coalesce(p_params->>'text', p_params->>'caption'),
                   p_params->>'parse_mode', p_user.user_id, p_user.first_name,
                   p_user.last_name, p_user.username, p_credits, p_gift))
           ELSE '{}' END
$$;
