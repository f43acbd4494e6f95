-- ledger_apply.sql - the one way credits and passes change. Adds delta credits (negative:
-- a debit) and pass_seconds of time pass to the user, and appends the entry, under
-- a lock on (bot, key) and the user's row lock. The same (bot, key) again changes nothing and returns the first
-- entry (replayed). A debit larger than the balance is refused (nothing written)
-- unless partial: then it takes what there is and records the rest as owed (refunds).
-- The user row must exist.
-- (first created by 006_webhookd.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION ledger_apply(p_bot bigint, p_user bigint, p_key text, p_kind text,
                             p_delta bigint, p_pass_seconds bigint DEFAULT 0,
                             p_partial boolean DEFAULT false, p_amount bigint DEFAULT NULL,
                             p_currency text DEFAULT NULL, p_reason text DEFAULT NULL)
RETURNS TABLE (entry_id bigint, applied bigint, balance bigint, pass_until timestamptz,
               owed bigint, replayed boolean, refused boolean)
LANGUAGE plpgsql AS $$
DECLARE
    u bot_users%ROWTYPE;
    e ledger%ROWTYPE;
    take bigint;
    short bigint := 0;
    new_pass timestamptz;
BEGIN
    -- one caller per (bot, key) at a time, whatever the user: the second one replays
    PERFORM pg_advisory_xact_lock(hashtextextended(p_bot || ':' || p_key, 0));
    SELECT * INTO u FROM bot_users b WHERE b.bot_id = p_bot AND b.user_id = p_user FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger_apply: unknown user % of bot %', p_user, p_bot;
    END IF;
    SELECT * INTO e FROM ledger l WHERE l.bot_id = p_bot AND l.key = p_key;
    IF FOUND THEN
        RETURN QUERY SELECT e.id, e.credits, e.balance, e.pass_until, e.owed, true, false;
        RETURN;
    END IF;
    take := p_delta;
    IF u.credits + p_delta < 0 THEN
        IF NOT p_partial THEN
            RETURN QUERY SELECT NULL::bigint, 0::bigint, u.credits, u.pass_until, u.owed,
                                false, true;
            RETURN;
        END IF;
        take := -u.credits;
        short := -p_delta - u.credits;
    END IF;
    new_pass := u.pass_until;
    IF p_pass_seconds > 0 THEN
        new_pass := greatest(coalesce(u.pass_until, now()), now())
                    + make_interval(secs => p_pass_seconds);
    END IF;
    UPDATE bot_users b SET credits = b.credits + take, owed = b.owed + short,
           pass_until = new_pass,
           spent = b.spent + CASE WHEN p_kind = 'debit' THEN -take ELSE 0 END
     WHERE b.bot_id = p_bot AND b.user_id = p_user;
    INSERT INTO ledger (bot_id, user_id, key, kind, requested, credits, owed, pass_until,
                        balance, amount, currency, reason)
    VALUES (p_bot, p_user, p_key, p_kind, p_delta, take, short, new_pass,
            u.credits + take, p_amount, p_currency, p_reason)
    RETURNING * INTO e;
    RETURN QUERY SELECT e.id, e.credits, e.balance, e.pass_until, u.owed + short, false, false;
END $$;
