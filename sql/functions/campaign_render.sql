-- campaign_render.sql - a campaign's text (or caption) for one recipient: {first_name},
-- {last_name}, {username}, {user_id}, {credits} (the balance, after the campaign's
-- gift) and {gift} replaced, the user's own values escaped for the parse mode. The
-- words are the campaign's (or the catalog's, chosen in C); this only fills them in.
CREATE OR REPLACE FUNCTION campaign_render(p_text text, p_mode text, p_user_id bigint,
                                           p_first text, p_last text, p_username text,
                                           p_credits bigint, p_gift bigint)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN strpos(p_text, '{') = 0 THEN p_text ELSE
        replace(replace(replace(replace(replace(replace(p_text,
            '{user_id}', p_user_id::text),
            '{credits}', coalesce(p_credits, 0)::text),
            '{gift}', coalesce(p_gift, 0)::text),
            '{username}', campaign_escape(coalesce(p_username, ''), p_mode)),
            '{last_name}', campaign_escape(coalesce(p_last, ''), p_mode)),
            '{first_name}', campaign_escape(coalesce(p_first, ''), p_mode)) END
$$;
