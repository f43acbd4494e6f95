-- bd_pass_warn.sql - the time pass warnings (docs/billing.md): a user whose pass ends
-- within their bot's pass_warning_hours (0: never) is told once a pass by the notice
-- pass_expiring (until: the end, epoch; hours: whole hours left, at least 1).
-- bot_users.pass_warned_for keeps the end warned about, so an extended pass (a new end)
-- is warned again. A pass bought when its end was already that near is marked without a
-- warning. At most 100 users a call; how many notices were recorded.
CREATE OR REPLACE FUNCTION bd_pass_warn() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    WITH due AS (
        SELECT u.bot_id, u.user_id, u.pass_until, EXISTS (SELECT 1 FROM ledger l
                 WHERE l.bot_id = u.bot_id AND l.user_id = u.user_id
                   AND l.pass_until = u.pass_until
                   AND l.at >= u.pass_until - make_interval(hours => h.hours)) AS fresh
          FROM bot_users u,
               LATERAL (SELECT bd_setting(u.bot_id, 'pass_warning_hours', NULL)::int AS hours) h
         WHERE u.pass_until > now() AND u.pass_until <= now() + interval '720 hours'
           AND u.pass_warned_for IS DISTINCT FROM u.pass_until
           AND u.pass_until <= now() + make_interval(hours => h.hours)
         ORDER BY u.pass_until LIMIT 100
           FOR UPDATE OF u SKIP LOCKED),
    w AS (UPDATE bot_users u SET pass_warned_for = d.pass_until FROM due d
           WHERE u.bot_id = d.bot_id AND u.user_id = d.user_id
          RETURNING d.bot_id, d.user_id, d.pass_until, d.fresh)
    SELECT count(bd_notice(w.bot_id, w.user_id, 'pass_expiring', jsonb_build_object(
               'until', extract(epoch FROM w.pass_until)::bigint,
               'hours', greatest(1, ceil(extract(epoch FROM w.pass_until - now())
                                         / 3600))::bigint)))
      INTO n FROM w WHERE NOT w.fresh;
    RETURN n;
END $$;
