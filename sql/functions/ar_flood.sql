-- ar_flood.sql - count a user's message (update p_seq, written at p_at) against the
-- bot's rate of p_rate messages a minute: flooding when the window's count is over the
-- rate; tell (the admins) at the first message over it of an episode, which goes on
-- while such messages come less than ten minutes apart. The same update processed
-- again gets the same answer and is not counted twice.
CREATE OR REPLACE FUNCTION ar_flood(p_bot bigint, p_user bigint, p_seq bigint, p_at timestamptz,
                                    p_rate integer)
RETURNS TABLE (flooding boolean, tell boolean) LANGUAGE plpgsql AS $$
DECLARE
    f autoreply_flood;
BEGIN
    SELECT * INTO f FROM autoreply_flood a WHERE a.bot_id = p_bot AND a.user_id = p_user
       FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO autoreply_flood (bot_id, user_id, window_at, count, last_seq)
        VALUES (p_bot, p_user, p_at, 1, p_seq) ON CONFLICT DO NOTHING;
        RETURN QUERY SELECT 1 > p_rate, false;
        RETURN;
    END IF;
    IF p_seq <= f.last_seq THEN
        RETURN QUERY SELECT p_seq = f.last_seq AND f.last_flooding,
                            p_seq = f.last_seq AND f.last_tell;
        RETURN;
    END IF;
    IF p_at >= f.window_at + interval '1 minute' OR p_at < f.window_at THEN
        f.window_at := p_at;
        f.count := 1;
    ELSE
        f.count := f.count + 1;
    END IF;
    flooding := f.count > p_rate;
    tell := flooding AND (f.flooded_at IS NULL OR p_at > f.flooded_at + interval '10 minutes');
    UPDATE autoreply_flood a SET window_at = f.window_at, count = f.count, last_seq = p_seq,
           last_flooding = flooding, last_tell = tell,
           flooded_at = CASE WHEN flooding THEN p_at ELSE f.flooded_at END
     WHERE a.bot_id = p_bot AND a.user_id = p_user;
    RETURN NEXT;
END $$;
