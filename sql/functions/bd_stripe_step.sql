-- bd_stripe_step.sql - claim one pending Stripe event (SKIP LOCKED: several billingd share
-- the table), act on it and mark it, in one transaction. An outcome "wait: ..." (an
-- event ahead of the one it depends on) or an error leaves it for later, with backoff
-- (1 s, 2 s, 5 s, ... up to 10 minutes apart; about half an hour in all), then it is
-- marked "gave up: ..." for people to look at. No row: nothing is due.
-- (first created by 008_billing.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION bd_stripe_step(OUT event_id text, OUT outcome text, OUT bot bigint)
LANGUAGE plpgsql AS $$
DECLARE
    e stripe_events%ROWTYPE;
BEGIN
    SELECT * INTO e FROM stripe_events s WHERE s.processed_at IS NULL
       AND (s.claimed_until IS NULL OR s.claimed_until < now())
     ORDER BY s.received_at LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    event_id := e.id;
    BEGIN
        SELECT * INTO outcome, bot FROM bd_ev_dispatch(e);
    EXCEPTION WHEN OTHERS THEN
        outcome := 'wait: error: ' || SQLERRM;
        bot := NULL;
    END;
    IF outcome LIKE 'wait:%' AND e.attempts < 19 THEN
        UPDATE stripe_events SET attempts = attempts + 1, outcome = bd_stripe_step.outcome,
               claimed_until = now() + make_interval(secs => least(1 + e.attempts ^ 2, 600))
         WHERE id = e.id;
    ELSE
        IF outcome LIKE 'wait:%' THEN
            outcome := 'gave up: ' || outcome;
        END IF;
        UPDATE stripe_events SET attempts = attempts + 1, outcome = bd_stripe_step.outcome,
               processed_at = now(), claimed_until = NULL
         WHERE id = e.id;
    END IF;
END $$;
