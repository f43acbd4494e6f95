-- 025_lang.sql - what a returning user's welcome and the time pass warning need
-- (issue 17; docs/onboarding.md, docs/billing.md): when a user was seen before the
-- update being recorded (wh_record keeps it), whether they unblocked the bot since their
-- last /start, and the end of the time pass a warning was sent for (once a pass).
ALTER TABLE bot_users
    ADD COLUMN prev_seen_at     timestamptz,
    ADD COLUMN came_back        boolean NOT NULL DEFAULT false,
    ADD COLUMN pass_warned_for  timestamptz;

-- the passes near their end, for billingd's warning sweep
CREATE INDEX bot_users_pass_until ON bot_users (pass_until) WHERE pass_until IS NOT NULL;
