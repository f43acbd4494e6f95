-- botapi_wanted.sql - an update of kind is one a bot that allowed these kinds receives
-- (none listed: every kind but chat_member, message_reaction, message_reaction_count)
-- (first created by 014_botapi_updates.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION botapi_wanted(p_kind text, p_allowed text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN coalesce(cardinality(p_allowed), 0) = 0
           THEN p_kind NOT IN ('chat_member', 'message_reaction', 'message_reaction_count')
           ELSE p_kind = ANY(p_allowed) END
$$;
