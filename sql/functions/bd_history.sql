-- bd_history.sql - /history: the last purchases and the spending
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_history(p_seq bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    bu bot_users%ROWTYPE;
    buys jsonb;
    month bigint;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    SELECT * INTO bu FROM bot_users WHERE bot_id = u.bot AND user_id = u.usr;
    SELECT jsonb_agg(jsonb_build_object('at', extract(epoch FROM l.at)::bigint,
                                        'pass', l.kind = 'pass', 'credits', l.credits,
                                        'amount', l.amount, 'currency', l.currency)
                     ORDER BY l.id DESC)
      INTO buys FROM (SELECT * FROM ledger WHERE bot_id = u.bot AND user_id = u.usr
                        AND kind IN ('grant', 'pass', 'gift', 'free')
                      ORDER BY id DESC LIMIT 5) l;
    SELECT coalesce(-sum(credits), 0) INTO month FROM ledger
     WHERE bot_id = u.bot AND user_id = u.usr AND kind = 'debit'
       AND at > now() - interval '30 days';
    PERFORM bd_notice(u.bot, u.usr, 'history', jsonb_build_object(
        'buys', coalesce(buys, '[]'), 'month', month, 'spent', bu.spent,
        'credits', bu.credits, 'owed', bu.owed));
    RETURN bd_finish(p_seq, 'history');
END $$;
