-- messages_counted_update.sql - the old rows counted out, the new ones in. No join of the
-- two transition tables: they have no statistics, so a join is planned as a nested loop,
-- quadratic in the rows of the statement (3,000 rows took 6 s); a row that did not change
-- cancels itself out in the sums, and EXCEPT (hashed) finds the new chats. Each side is
-- summed first, one delta for each set of the counted columns (messages_counted_insert).
-- (first created by 009_counters.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION messages_counted_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM message_deltas_apply(array(
        SELECT row(o.bot_id, o.status, o.created_at, o.sent_at, o.updated_at,
            o.last_error, -count(*))::message_delta FROM old_rows o
        GROUP BY o.bot_id, o.status, o.created_at, o.sent_at, o.updated_at, o.last_error
        UNION ALL
        SELECT row(n.bot_id, n.status, n.created_at, n.sent_at, n.updated_at,
            n.last_error, count(*))::message_delta FROM new_rows n
        GROUP BY n.bot_id, n.status, n.created_at, n.sent_at, n.updated_at, n.last_error));
    INSERT INTO bot_chats (chat, bot_id)
        SELECT chat, bot_id FROM (SELECT n.chat, n.bot_id FROM new_rows n
            EXCEPT SELECT o.chat, o.bot_id FROM old_rows o) c ORDER BY 1, 2
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
