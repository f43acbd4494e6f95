-- bd_say_finish.sql - tell the user the notice p_name (with p_args) and finish the update
-- with outcome
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_say_finish(p_seq bigint, p_name text, p_args jsonb,
                                         p_outcome text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    IF u.usr IS NOT NULL THEN
        PERFORM bd_notice(u.bot, u.usr, p_name, p_args);
    END IF;
    RETURN bd_finish(p_seq, p_outcome);
END $$;
