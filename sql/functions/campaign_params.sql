-- campaign_params.sql - the Telegram parameters of a campaign's message to one user: the
-- campaign's checked template with the user's chat_id, each of its top-level strings
-- that holds a variable (the text or caption, checked by gatewayd) rendered by
-- campaign_render with the user's names and balance (p_credits: after the gift).
CREATE OR REPLACE FUNCTION campaign_params(p_params jsonb, p_user bot_users, p_credits bigint,
                                           p_gift bigint)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT p_params || jsonb_build_object('chat_id', p_user.user_id) || coalesce((
        SELECT jsonb_object_agg(e.key, campaign_render(e.value #>> '{}',
                   p_params->>'parse_mode', p_user.user_id, p_user.first_name,
                   p_user.last_name, p_user.username, p_credits, p_gift))
          FROM jsonb_each(p_params) e
         WHERE jsonb_typeof(e.value) = 'string' AND strpos(e.value #>> '{}', '{') > 0),
        '{}')
$$;
