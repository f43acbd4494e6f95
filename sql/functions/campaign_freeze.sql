-- campaign_freeze.sql - before the messages of ids p_lo to p_hi - 1 are pruned, copy the
-- outcome of those that are campaign recipients' messages (status, attempts, Telegram's
-- id, when sent, last error) onto the recipients, one campaign a call, so the campaign's
-- progress and report outlive them. Returns how many recipients it froze; 0 when none is
-- left. Called by messages_prune before it locks anything: the messages are final (none
-- is open), and only campaign_recipients' rows are written.
CREATE OR REPLACE FUNCTION campaign_freeze(p_lo bigint, p_hi bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    c bigint := (SELECT k.id FROM campaigns k WHERE EXISTS (SELECT 1
                   FROM campaign_recipients x WHERE x.campaign_id = k.id
                   AND x.message_id >= p_lo AND x.message_id < p_hi AND x.status IS NULL)
                 ORDER BY k.id LIMIT 1);
    n bigint;
BEGIN
    IF c IS NULL THEN
        RETURN 0;
    END IF;
    UPDATE campaign_recipients r SET status = m.status, attempts = m.attempts,
           telegram_message_id = m.telegram_message_id, sent_at = m.sent_at,
           last_error = m.last_error
      FROM messages m
     WHERE r.campaign_id = c AND r.message_id >= p_lo AND r.message_id < p_hi
       AND r.status IS NULL AND m.id = r.message_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
