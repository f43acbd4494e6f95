-- bd_history.sql - /history: the last purchases and the spending
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_history(p_seq bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    bu bot_users%ROWTYPE;
    buys text;
    month bigint;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    SELECT * INTO bu FROM bot_users WHERE bot_id = u.bot AND user_id = u.usr;
    SELECT string_agg(format('%s  %s%s', to_char(l.at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                             CASE WHEN l.kind = 'pass' THEN 'time pass'
                                  ELSE '+' || l.credits || ' credits' END,
                             CASE WHEN l.amount IS NOT NULL
                                  THEN '  ' || bd_money(l.amount, l.currency) ELSE '' END),
                      E'\n' ORDER BY l.id DESC)
      INTO buys FROM (SELECT * FROM ledger WHERE bot_id = u.bot AND user_id = u.usr
                        AND kind IN ('grant', 'pass', 'gift', 'free')
                      ORDER BY id DESC LIMIT 5) l;
    SELECT coalesce(-sum(credits), 0) INTO month FROM ledger
     WHERE bot_id = u.bot AND user_id = u.usr AND kind = 'debit'
       AND at > now() - interval '30 days';
    PERFORM bd_say(u.bot, u.usr, format(E'Your last purchases:\n%s\n\nSpent: %s credits in'
        || E' the last 30 days, %s in all.\nBalance: %s credits.%s',
        coalesce(buys, 'none yet'), month, bu.spent, bu.credits,
        CASE WHEN bu.owed > 0 THEN format(' Owed: %s credits.', bu.owed) ELSE '' END));
    RETURN bd_finish(p_seq, 'history');
END $$;
