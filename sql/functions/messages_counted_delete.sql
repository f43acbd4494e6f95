-- messages_counted_delete.sql - trigger: deleted messages counted out, summed first as
-- messages_counted_insert does
-- (first created by 009_counters.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION messages_counted_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM message_deltas_apply(array(SELECT row(o.bot_id, o.status, o.created_at,
        o.sent_at, o.updated_at, NULL, -count(*))::message_delta FROM old_rows o
        GROUP BY o.bot_id, o.status, o.created_at, o.sent_at, o.updated_at));
    RETURN NULL;
END $$;
