-- ar_fire.sql - the auto-reply to a user's message (update p_seq, written at p_at): the
-- first of p_rules (the candidates webhookd matched, in the bot's order) that may answer
-- answers: a greeting only to the user's first message, office hours only when they
-- are closed, and no rule twice to one user within its window. Its sendMessage (the
-- element of p_params at the same place, made by webhookd) is queued at high priority
-- and the firing recorded; the rule and the message (no row: none). The same update
-- processed again gets its first firing back and queues nothing.
CREATE OR REPLACE FUNCTION ar_fire(p_bot bigint, p_user bigint, p_seq bigint, p_at timestamptz,
                                   p_rules bigint[], p_params jsonb)
RETURNS TABLE (rule_id bigint, message_id bigint) LANGUAGE plpgsql AS $$
DECLARE
    r autoreplies;
    mid bigint;
BEGIN
    RETURN QUERY SELECT f.rule_id, f.message_id FROM autoreply_firings f
                  WHERE f.bot_id = p_bot AND f.update_seq = p_seq;
    IF FOUND THEN
        RETURN;
    END IF;
    FOR r IN SELECT * FROM autoreplies a WHERE a.bot_id = p_bot AND a.id = ANY(p_rules)
              AND a.enabled ORDER BY array_position(p_rules, a.id) LOOP
        CONTINUE WHEN r.kind = 'greeting' AND (SELECT u.messages FROM bot_users u
                                                WHERE u.bot_id = p_bot AND u.user_id = p_user) > 1;
        CONTINUE WHEN r.kind = 'hours' AND ar_open(r.time_zone, r.days, r.opens, r.closes, p_at);
        CONTINUE WHEN EXISTS (SELECT 1 FROM autoreply_firings f WHERE f.rule_id = r.id
                               AND f.user_id = p_user
                               AND f.fired_at > now() - make_interval(secs => r.window_seconds));
        mid := queue_message(p_bot, p_user::text, 'sendMessage',
                             p_params->(array_position(p_rules, r.id) - 1), 0::smallint,
                             jsonb_build_object('source', 'webhookd', 'update', p_seq,
                                                'autoreply', r.id));
        INSERT INTO autoreply_firings (bot_id, rule_id, user_id, update_seq, message_id)
        VALUES (p_bot, r.id, p_user, p_seq, mid);
        RETURN QUERY SELECT r.id, mid;
        RETURN;
    END LOOP;
END $$;
