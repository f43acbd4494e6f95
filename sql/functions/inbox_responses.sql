-- inbox_responses.sql - the answers people gave in a conversation, for the inbox's
-- statistics (gatewayd/inboxstats.c): each outbound message a person wrote (a reply from
-- the inbox, source "inbox", or an admin's answer in the forum topic copied to the user,
-- metadata "bridge") that followed unanswered messages of the user, with how long the
-- first of those waited for it, its account (NULL: an API key or the topic), and
-- whether it was the conversation's first response. Read from conversation_items and
-- messages (through messages_bot_chat), nothing stored.
CREATE OR REPLACE FUNCTION inbox_responses(p_conv bigint)
RETURNS TABLE (at timestamptz, account_id bigint, wait_seconds double precision,
               first boolean)
LANGUAGE sql STABLE AS $$
    WITH c AS (SELECT id, bot_id, chat_id FROM conversations WHERE id = p_conv),
    ev AS (SELECT i.at, true AS inbound, NULL::bigint AS account
             FROM c JOIN conversation_items i ON i.conversation_id = c.id AND i.kind = 'message'
           UNION ALL
           SELECT m.created_at, false, (m.metadata->>'account')::bigint
             FROM c JOIN messages m ON m.bot_id = c.bot_id AND m.chat = c.chat_id::text
            WHERE m.metadata->>'source' = 'inbox' OR m.metadata ? 'bridge'),
    -- grp: the answers before each row; the user's messages of one grp wait for the next
    g AS (SELECT ev.*, count(*) FILTER (WHERE NOT ev.inbound) OVER (ORDER BY ev.at, ev.inbound DESC
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS grp FROM ev),
    w AS (SELECT o.at, o.account, (SELECT min(i.at) FROM g i WHERE i.inbound AND i.grp = o.grp) AS since
            FROM g o WHERE NOT o.inbound)
    SELECT w.at, w.account, extract(epoch FROM w.at - w.since)::double precision,
           row_number() OVER (ORDER BY w.at) = 1
      FROM w WHERE w.since IS NOT NULL
$$;
