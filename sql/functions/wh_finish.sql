-- wh_finish.sql - an update is processed: queue its replies (a JSON array of
-- {"chat", "method", "params", "meta"?}: meta joins the message's metadata) at high priority, hand it to billingd when p_billing,
-- and mark it, in one transaction. A second call for the same update changes nothing.
-- The number of replies queued.
-- (first created by 006_webhookd.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION wh_finish(p_seq bigint, p_outcome text, p_replies jsonb,
                          p_billing boolean DEFAULT false)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    b bigint;
    n integer := 0;
    done boolean;
BEGIN
    -- by its key alone (see wh_finish_many.sql), processed or not once it is locked
    SELECT t.processed_at IS NOT NULL INTO done FROM tg_updates t WHERE t.seq = p_seq
       FOR UPDATE;
    IF done IS NOT false THEN
        RETURN 0;
    END IF;
    UPDATE tg_updates SET processed_at = now(), outcome = p_outcome, claimed_until = NULL,
           billing_at = CASE WHEN p_billing THEN now() END
     WHERE seq = p_seq RETURNING bot_id INTO b;
    SELECT count(queue_message(b, r->>'chat', r->>'method', r->'params', 0::smallint,
                               jsonb_build_object('source', 'webhookd', 'update', p_seq)
                               || coalesce(r->'meta', '{}'::jsonb)))
      INTO n FROM jsonb_array_elements(coalesce(p_replies, '[]')) r;
    RETURN n;
END $$;
