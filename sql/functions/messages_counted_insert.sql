-- messages_counted_insert.sql - trigger: new messages counted in, their chats recorded.
-- The rows are summed first, one delta for each set of the counted columns (a campaign's
-- 100,000 messages are a few deltas, not 100,000 composite values to unnest six times).
-- (first created by 009_counters.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION messages_counted_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM message_deltas_apply(array(SELECT row(n.bot_id, n.status, n.created_at,
        n.sent_at, n.updated_at, n.last_error, count(*))::message_delta FROM new_rows n
        GROUP BY n.bot_id, n.status, n.created_at, n.sent_at, n.updated_at, n.last_error));
    INSERT INTO bot_chats (chat, bot_id)
        SELECT DISTINCT n.chat, n.bot_id FROM new_rows n ORDER BY 1, 2
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
