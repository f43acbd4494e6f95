-- bd_open.sql - lock a handed-over update that is not done; its bot, user and payload
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_open(p_seq bigint, OUT bot bigint, OUT usr bigint, OUT payload jsonb)
LANGUAGE sql AS $$
    SELECT bot_id, coalesce((payload->'message'->'from'->>'id')::bigint,
                            (payload->'callback_query'->'from'->>'id')::bigint,
                            (payload->'pre_checkout_query'->'from'->>'id')::bigint), payload
      FROM tg_updates WHERE seq = p_seq AND billing_done_at IS NULL FOR UPDATE
$$;
