-- bd_finish.sql - billingd is done with a Telegram update (once: a second call is a no-op)
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_finish(p_seq bigint, p_outcome text) RETURNS boolean
LANGUAGE sql AS $$
    WITH u AS (UPDATE tg_updates SET billing_done_at = now(), billing_outcome = p_outcome,
                      billing_claimed_until = NULL
                WHERE seq = p_seq AND billing_done_at IS NULL RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM u)
$$;
