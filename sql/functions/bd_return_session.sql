-- bd_return_session.sql - the Checkout Session a "/start paid_<ref>" names (Checkout's
-- success page sends the user back to the bot with it): the one made for update <ref>
-- of the same bot and user; NULL when there is none
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_return_session(p_seq bigint, p_ref bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT p.checkout_session_id FROM payments p JOIN tg_updates u ON u.seq = p_seq
     WHERE p.update_seq = p_ref AND p.bot_id = u.bot_id AND p.kind = 'checkout'
       AND p.user_id = (u.payload->'message'->'from'->>'id')::bigint
$$;
