-- 008_billing.sql - billingd's tables and functions: products per bot, payments (one
-- row per Checkout Session, PaymentIntent or Stars payment), Stripe customers with
-- their saved card, auto-recharge settings and attempts, disputes, and the functions
-- that act on Stripe events and purchase commands. Credits change only through
-- ledger_apply (006); every grant is keyed by what was bought (the Checkout Session,
-- the PaymentIntent, the Stars charge), never by the event that told of it, so the
-- same purchase is granted once whatever arrives, how often and in what order.

-- What a bot sells: a credit package (credits > 0) or a time pass (pass_seconds > 0),
-- priced in minor units of currency (Stripe), and optionally in Telegram Stars.
CREATE TABLE products (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id           bigint NOT NULL REFERENCES bots(id),
    label            text NOT NULL CHECK (length(label) BETWEEN 1 AND 64),
    credits          bigint NOT NULL DEFAULT 0 CHECK (credits >= 0),
    pass_seconds     bigint NOT NULL DEFAULT 0 CHECK (pass_seconds >= 0),
    price            bigint NOT NULL CHECK (price > 0),         -- minor units
    currency         text NOT NULL DEFAULT 'usd' CHECK (currency ~ '^[a-z]{3}$'),
    stripe_price_id  text,               -- price_...; NULL: price_data from price/currency
    stars_price      bigint CHECK (stars_price > 0),           -- XTR; NULL: not for Stars
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (credits > 0 OR pass_seconds > 0)
);
CREATE INDEX products_bot ON products (bot_id, id) WHERE active;

-- A user's Stripe customer (made before their first Checkout so the card is saved to
-- it) and the card saved for off-session payments (payment_method.attached).
CREATE TABLE stripe_customers (
    bot_id          bigint NOT NULL,
    user_id         bigint NOT NULL,
    customer_id     text NOT NULL UNIQUE,
    payment_method  text,
    card_brand      text,
    card_last4      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, user_id),
    FOREIGN KEY (bot_id, user_id) REFERENCES bot_users (bot_id, user_id)
);

-- Auto-recharge per user: when a debit leaves the balance under threshold, buy
-- product with the saved card. armed is cleared by a trigger and set again once the
-- balance is back at or over the threshold: one attempt per crossing.
CREATE TABLE auto_recharge (
    bot_id      bigint NOT NULL,
    user_id     bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products(id),
    threshold   bigint NOT NULL CHECK (threshold > 0),
    enabled     boolean NOT NULL DEFAULT true,
    armed       boolean NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, user_id),
    FOREIGN KEY (bot_id, user_id) REFERENCES bot_users (bot_id, user_id)
);

-- One auto-recharge attempt (made by the trigger, carried out by billingd).
CREATE TABLE recharges (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id         bigint NOT NULL,
    user_id        bigint NOT NULL,
    product_id     bigint NOT NULL REFERENCES products(id),
    ledger_id      bigint NOT NULL,     -- the debit that crossed the threshold
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'paid', 'link', 'failed')),
    detail         text,
    claimed_until  timestamptz,
    attempts       integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    done_at        timestamptz
);
CREATE INDEX recharges_pending ON recharges (id) WHERE status = 'pending';

-- One row per payment: a Checkout Session, an off-session PaymentIntent, or a Stars
-- payment. grant_key is the ledger key of its grant; ledger_keys every key it used.
CREATE TABLE payments (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id               bigint NOT NULL,
    user_id              bigint NOT NULL,
    product_id           bigint REFERENCES products(id),
    kind                 text NOT NULL CHECK (kind IN ('checkout', 'recharge', 'stars')),
    status               text NOT NULL DEFAULT 'open'
                         CHECK (status IN ('open', 'paid', 'failed', 'expired')),
    checkout_session_id  text UNIQUE,
    payment_intent_id    text UNIQUE,
    telegram_charge_id   text UNIQUE,   -- for refundStarPayment
    update_seq           bigint,        -- the Telegram update that asked for it
    recharge_id          bigint REFERENCES recharges(id),
    url                  text,          -- the Checkout link
    amount               bigint,
    currency             text,
    credits              bigint NOT NULL DEFAULT 0,
    pass_seconds         bigint NOT NULL DEFAULT 0,
    refunded_amount      bigint NOT NULL DEFAULT 0,
    refunded_credits     bigint NOT NULL DEFAULT 0,
    owed                 bigint NOT NULL DEFAULT 0,   -- refunded credits not taken back
    grant_key            text,
    ledger_keys          text[] NOT NULL DEFAULT '{}',
    failure              text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    paid_at              timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (bot_id, user_id) REFERENCES bot_users (bot_id, user_id)
);
CREATE INDEX payments_user ON payments (bot_id, user_id, id);

CREATE TABLE disputes (
    id            text PRIMARY KEY,     -- dp_...
    payment_id    bigint REFERENCES payments(id),
    bot_id        bigint,
    user_id       bigint,
    charge_id     text,
    amount        bigint,
    currency      text,
    reason        text,
    status        text,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    alerted_at    timestamptz
);

-- Notices billingd sent once per thing (a failed payment, a saved card): the key says
-- what was told, so a second event about the same change tells nobody again.
CREATE TABLE billing_notices (
    key  text PRIMARY KEY,
    at   timestamptz NOT NULL DEFAULT now()
);

-- billingd's own lease on a handed-over Telegram update.
ALTER TABLE tg_updates ADD COLUMN billing_claimed_until timestamptz;
ALTER TABLE tg_updates ADD COLUMN billing_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE tg_updates ADD COLUMN billing_outcome text;

-- bd_money - 500, 'usd' -> '5.00 USD'; Stars as '50 ⭐'
CREATE FUNCTION bd_money(p_amount bigint, p_currency text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_amount IS NULL THEN ''
        WHEN upper(p_currency) = 'XTR' THEN p_amount || ' ⭐'
        WHEN lower(p_currency) IN ('jpy', 'krw', 'vnd', 'clp', 'isk', 'huf', 'twd', 'ugx')
            THEN p_amount || ' ' || upper(p_currency)
        ELSE to_char(p_amount / 100.0, 'FM999999999990.00') || ' ' || upper(p_currency)
    END
$$;

-- bd_what - what a product gives, for people: '10 credits', '7 days of unlimited access'
CREATE FUNCTION bd_what(p_credits bigint, p_pass_seconds bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws(' + ',
        CASE WHEN p_credits > 0 THEN p_credits || ' credits' END,
        CASE WHEN p_pass_seconds >= 86400 AND p_pass_seconds % 86400 = 0
             THEN (p_pass_seconds / 86400) || ' day(s) of unlimited access'
             WHEN p_pass_seconds > 0
             THEN (p_pass_seconds / 3600) || ' hour(s) of unlimited access' END)
$$;

-- bd_say - queue a message from the bot to a chat (high priority), with an optional
-- reply_markup; its id
CREATE FUNCTION bd_say(p_bot bigint, p_chat bigint, p_text text, p_markup jsonb DEFAULT NULL)
RETURNS bigint LANGUAGE sql AS $$
    SELECT queue_message(p_bot, p_chat::text, 'sendMessage',
                         jsonb_build_object('chat_id', p_chat, 'text', p_text)
                         || CASE WHEN p_markup IS NULL THEN '{}'::jsonb
                                 ELSE jsonb_build_object('reply_markup', p_markup) END,
                         0::smallint, '{"source": "billingd"}'::jsonb)
$$;

-- bd_setting - a bot's setting as text, or the default given
CREATE FUNCTION bd_setting(p_bot bigint, p_key text, p_default text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT b.settings->>p_key FROM bots b WHERE b.id = p_bot), p_default)
$$;

-- bd_low_check - webhookd's low-balance rule for billingd's changes: warn once per
-- crossing under the bot's low_balance (bot_users.low_warned remembers it). True when
-- it warned.
CREATE FUNCTION bd_low_check(p_bot bigint, p_user bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    low bigint := coalesce(bd_setting(p_bot, 'low_balance', '0')::bigint, 0);
    warned boolean;
    bal bigint;
BEGIN
    IF low <= 0 THEN
        RETURN false;
    END IF;
    UPDATE bot_users u SET low_warned = (u.credits < low)
     WHERE u.bot_id = p_bot AND u.user_id = p_user
       AND u.low_warned IS DISTINCT FROM (u.credits < low)
    RETURNING u.low_warned, u.credits INTO warned, bal;
    IF coalesce(warned, false) THEN
        PERFORM bd_say(p_bot, p_user, format('⚠️ Your balance is low: %s credits. /buy to'
                                             ' top up.', bal));
        RETURN true;
    END IF;
    RETURN false;
END $$;

-- bd_grant - a payment is paid: grant its product once (ledger key p_key), record the
-- payment as paid, tell the user their new balance. Returns whether this call granted.
CREATE FUNCTION bd_grant(p_payment bigint, p_key text, p_reason text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    p payments%ROWTYPE;
    r record;
BEGIN
    SELECT * INTO p FROM payments WHERE id = p_payment FOR UPDATE;
    SELECT * INTO r FROM ledger_apply(p.bot_id, p.user_id, p_key,
        CASE WHEN p.credits = 0 THEN 'pass' ELSE 'grant' END, p.credits, p.pass_seconds,
        false, p.amount, p.currency, p_reason);
    UPDATE payments SET status = 'paid', paid_at = coalesce(paid_at, now()),
           grant_key = p_key, updated_at = now(),
           ledger_keys = CASE WHEN p_key = ANY(ledger_keys) THEN ledger_keys
                              ELSE ledger_keys || p_key END
     WHERE id = p_payment;
    IF r.replayed THEN
        RETURN false;
    END IF;
    PERFORM bd_say(p.bot_id, p.user_id, format('✅ Payment received: %s.%s%s',
        bd_what(p.credits, p.pass_seconds),
        format(E'\nYour balance: %s credits.', r.balance),
        CASE WHEN r.pass_until > now() THEN format(E'\nUnlimited access until %s UTC.',
             to_char(r.pass_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')) ELSE '' END));
    PERFORM bd_low_check(p.bot_id, p.user_id);
    RETURN true;
END $$;

-- bd_meta_payment - the payment a Stripe object (Checkout Session or PaymentIntent)
-- stands for: found by its ids, else made from its metadata (tgm_bot, tgm_user,
-- tgm_product, as billingd sets them). NULL when it is none of tgm's.
CREATE FUNCTION bd_meta_payment(o jsonb, p_kind text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    pid bigint;
    m jsonb := coalesce(o->'metadata', '{}');
    v_bot bigint;
    v_user bigint;
    pr products%ROWTYPE;
    cs text := CASE WHEN o->>'object' = 'checkout.session' THEN o->>'id' END;
    pi text := CASE WHEN o->>'object' = 'payment_intent' THEN o->>'id'
                    ELSE o->>'payment_intent' END;
BEGIN
    SELECT id INTO pid FROM payments
     WHERE (cs IS NOT NULL AND checkout_session_id = cs)
        OR (cs IS NULL AND pi IS NOT NULL AND payment_intent_id = pi)
     ORDER BY id LIMIT 1;
    IF FOUND THEN
        IF pi IS NOT NULL THEN
            UPDATE payments SET payment_intent_id = pi WHERE id = pid
               AND payment_intent_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM payments q WHERE q.payment_intent_id = pi);
        END IF;
        RETURN pid;
    END IF;
    IF NOT (m ? 'tgm_bot' AND m ? 'tgm_user' AND m ? 'tgm_product') THEN
        RETURN NULL;
    END IF;
    v_bot := (m->>'tgm_bot')::bigint;
    v_user := (m->>'tgm_user')::bigint;
    SELECT * INTO pr FROM products WHERE id = (m->>'tgm_product')::bigint AND bot_id = v_bot;
    IF NOT FOUND OR NOT EXISTS (SELECT 1 FROM bot_users WHERE bot_id = v_bot
                                                          AND user_id = v_user) THEN
        RETURN NULL;
    END IF;
    INSERT INTO payments (bot_id, user_id, product_id, kind, checkout_session_id,
                          payment_intent_id, amount, currency, credits, pass_seconds)
    VALUES (v_bot, v_user, pr.id, p_kind, cs, pi,
            coalesce((o->>'amount_total')::bigint, (o->>'amount')::bigint, pr.price),
            coalesce(o->>'currency', pr.currency), pr.credits, pr.pass_seconds)
    ON CONFLICT DO NOTHING RETURNING id INTO pid;
    IF pid IS NULL THEN  -- made meanwhile by another billingd
        SELECT id INTO pid FROM payments
         WHERE (cs IS NOT NULL AND checkout_session_id = cs)
            OR (cs IS NULL AND payment_intent_id = pi);
    END IF;
    RETURN pid;
END $$;

-- bd_notice_once - true the first time key is seen (then it is remembered)
CREATE FUNCTION bd_notice_once(p_key text) RETURNS boolean LANGUAGE sql AS $$
    WITH ins AS (INSERT INTO billing_notices (key) VALUES (p_key) ON CONFLICT DO NOTHING
                 RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM ins)
$$;

-- Stripe event handlers: each gets the event's data.object, returns an outcome (a
-- "wait: ..." outcome leaves the event to be tried again later) and the bot it
-- queued messages for (NULL: none).

-- checkout.session.completed / async_payment_succeeded / async_payment_failed / expired
CREATE FUNCTION bd_ev_checkout(p_type text, o jsonb, OUT outcome text, OUT bot bigint)
LANGUAGE plpgsql AS $$
DECLARE
    pid bigint := bd_meta_payment(o, 'checkout');
    p payments%ROWTYPE;
BEGIN
    IF pid IS NULL THEN
        outcome := 'ignored: not a tgm Checkout Session';
        RETURN;
    END IF;
    SELECT * INTO p FROM payments WHERE id = pid;
    bot := p.bot_id;
    IF p_type IN ('checkout.session.completed', 'checkout.session.async_payment_succeeded')
    THEN
        IF o->>'payment_status' NOT IN ('paid', 'no_payment_required') THEN
            outcome := 'pending: payment_status ' || coalesce(o->>'payment_status', 'none');
            bot := NULL;
            RETURN;
        END IF;
        outcome := CASE WHEN bd_grant(pid, 'stripe:cs:' || (o->>'id'), 'Stripe Checkout')
                        THEN 'granted' ELSE 'already granted' END;
        RETURN;
    END IF;
    IF p.status = 'paid' THEN
        outcome := 'ignored: already paid';
        bot := NULL;
        RETURN;
    END IF;
    IF p_type = 'checkout.session.expired' THEN
        UPDATE payments SET status = 'expired', updated_at = now() WHERE id = pid;
        outcome := 'expired';
        bot := NULL;
        RETURN;
    END IF;
    UPDATE payments SET status = 'failed', failure = 'async payment failed',
           updated_at = now() WHERE id = pid;
    IF bd_notice_once('failed:' || (o->>'id')) THEN
        PERFORM bd_say(p.bot_id, p.user_id, '❌ Your payment did not go through (the bank'
                       ' refused it). Nothing was charged: /buy to try again.');
    END IF;
    outcome := 'told: async payment failed';
END $$;

-- payment_intent.succeeded (auto-recharge only: Checkout grants by its Session) and
-- payment_intent.payment_failed (tell the user, unless billingd told them already)
CREATE FUNCTION bd_ev_intent(p_type text, o jsonb, OUT outcome text, OUT bot bigint)
LANGUAGE plpgsql AS $$
DECLARE
    recharge boolean := o->'metadata'->>'tgm_kind' = 'recharge';
    pid bigint;
    p payments%ROWTYPE;
    err jsonb := o->'last_payment_error';
BEGIN
    IF p_type = 'payment_intent.succeeded' THEN
        IF NOT recharge THEN
            outcome := 'ignored: Checkout grants by its Session';
            RETURN;
        END IF;
        pid := bd_meta_payment(o, 'recharge');
        IF pid IS NULL THEN
            outcome := 'ignored: not a tgm PaymentIntent';
            RETURN;
        END IF;
        SELECT * INTO p FROM payments WHERE id = pid;
        bot := p.bot_id;
        outcome := CASE WHEN bd_grant(pid, 'stripe:pi:' || (o->>'id'), 'auto-recharge')
                        THEN 'granted' ELSE 'already granted' END;
        RETURN;
    END IF;
    IF recharge THEN
        outcome := 'ignored: billingd handles its own recharge failures';
        RETURN;
    END IF;
    IF NOT (o->'metadata' ? 'tgm_bot' AND o->'metadata' ? 'tgm_user') THEN
        outcome := 'ignored: not a tgm PaymentIntent';
        RETURN;
    END IF;
    bot := (o->'metadata'->>'tgm_bot')::bigint;
    IF NOT bd_notice_once('failed:' || (o->>'id') || ':' || coalesce(err->>'charge', '')) THEN
        outcome := 'already told';
        bot := NULL;
        RETURN;
    END IF;
    PERFORM bd_say(bot, (o->'metadata'->>'tgm_user')::bigint,
        format('❌ Your payment failed: %s You can try again with /buy.',
               coalesce(err->>'message', 'the card was declined.')));
    outcome := 'told: payment failed';
END $$;

-- payment_method.attached: the card saved for auto-recharge
CREATE FUNCTION bd_ev_card(o jsonb, OUT outcome text, OUT bot bigint)
LANGUAGE plpgsql AS $$
DECLARE
    c stripe_customers%ROWTYPE;
BEGIN
    UPDATE stripe_customers SET payment_method = o->>'id',
           card_brand = o->'card'->>'brand', card_last4 = o->'card'->>'last4'
     WHERE customer_id = o->>'customer' RETURNING * INTO c;
    IF NOT FOUND THEN
        outcome := 'ignored: not a tgm customer';
        RETURN;
    END IF;
    IF bd_notice_once('card:' || (o->>'id')) THEN
        PERFORM bd_say(c.bot_id, c.user_id, format('💳 Your card %s •••• %s is saved:'
            ' /autorecharge on <credits> <below> tops you up automatically.',
            coalesce(c.card_brand, ''), coalesce(c.card_last4, '-')));
        bot := c.bot_id;
    END IF;
    outcome := 'card saved';
END $$;

-- charge.refunded: take back the refunded share of the credits (never below zero: the
-- rest is owed). amount_refunded is cumulative, so the share is recomputed from it and
-- only what was not taken yet is taken: events about earlier refunds change nothing.
CREATE FUNCTION bd_ev_refund(o jsonb, OUT outcome text, OUT bot bigint)
LANGUAGE plpgsql AS $$
DECLARE
    p payments%ROWTYPE;
    target bigint;
    key text;
    r record;
BEGIN
    SELECT * INTO p FROM payments WHERE payment_intent_id = o->>'payment_intent' FOR UPDATE;
    IF NOT FOUND OR p.status <> 'paid' THEN
        outcome := 'wait: the payment is not granted yet';
        RETURN;
    END IF;
    IF (o->>'amount_refunded')::bigint <= p.refunded_amount THEN
        outcome := 'ignored: refund already applied';
        RETURN;
    END IF;
    target := CASE WHEN (o->>'amount_refunded')::bigint >= (o->>'amount')::bigint
                   THEN p.credits
                   ELSE p.credits * (o->>'amount_refunded')::bigint / (o->>'amount')::bigint
              END;
    key := format('stripe:refund:%s:%s', o->>'id', o->>'amount_refunded');
    SELECT * INTO r FROM ledger_apply(p.bot_id, p.user_id, key, 'refund',
        -(target - p.refunded_credits), 0, true, -(o->>'amount_refunded')::bigint
        + p.refunded_amount, o->>'currency', 'Stripe refund');
    UPDATE payments SET refunded_amount = (o->>'amount_refunded')::bigint,
           refunded_credits = target, owed = owed + (target - p.refunded_credits + r.applied),
           ledger_keys = ledger_keys || key, updated_at = now()
     WHERE id = p.id;
    bot := p.bot_id;
    IF NOT r.replayed THEN
        PERFORM bd_say(p.bot_id, p.user_id, format('↩️ A refund of %s was made: %s credits'
            ' taken back.%s Your balance: %s credits.',
            bd_money((o->>'amount_refunded')::bigint - p.refunded_amount, o->>'currency'),
            -r.applied, CASE WHEN target - p.refunded_credits + r.applied > 0
                THEN format(' %s credits were already spent and are owed.',
                            target - p.refunded_credits + r.applied) ELSE '' END,
            r.balance));
        PERFORM bd_low_check(p.bot_id, p.user_id);
    END IF;
    outcome := format('refunded: %s credits taken, %s owed', -r.applied,
                      target - p.refunded_credits + r.applied);
END $$;

-- charge.dispute.created (and later dispute events): record; alert the bot's admin
-- group at once, the first time
CREATE FUNCTION bd_ev_dispute(o jsonb, OUT outcome text, OUT bot bigint)
LANGUAGE plpgsql AS $$
DECLARE
    p payments%ROWTYPE;
    admin bigint;
    inserted boolean;
BEGIN
    SELECT * INTO p FROM payments WHERE payment_intent_id = o->>'payment_intent';
    IF NOT FOUND THEN
        outcome := 'wait: no payment with that PaymentIntent yet';
        RETURN;
    END IF;
    INSERT INTO disputes (id, payment_id, bot_id, user_id, charge_id, amount, currency,
                          reason, status, payload)
    VALUES (o->>'id', p.id, p.bot_id, p.user_id, o->>'charge', (o->>'amount')::bigint,
            o->>'currency', o->>'reason', o->>'status', o)
    ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, payload = EXCLUDED.payload
    RETURNING (xmax = 0) INTO inserted;
    IF NOT inserted THEN
        outcome := 'dispute updated: ' || coalesce(o->>'status', '');
        RETURN;
    END IF;
    admin := coalesce(bd_setting(p.bot_id, 'admin_chat_id', '0')::bigint, 0);
    IF admin = 0 THEN
        outcome := 'dispute recorded (no admin group to alert)';
        RETURN;
    END IF;
    PERFORM bd_say(p.bot_id, admin, format('🚨 Dispute opened: %s by user %s (reason: %s).'
        ' Payment %s, dispute %s. Answer it in the Stripe Dashboard before the deadline.',
        bd_money((o->>'amount')::bigint, o->>'currency'), p.user_id,
        coalesce(o->>'reason', 'unknown'), coalesce(o->>'payment_intent', '?'), o->>'id'));
    UPDATE disputes SET alerted_at = now() WHERE id = o->>'id';
    bot := p.bot_id;
    outcome := 'dispute alerted';
END $$;

-- bd_ev_dispatch - one event to its handler
CREATE FUNCTION bd_ev_dispatch(e stripe_events, OUT outcome text, OUT bot bigint)
LANGUAGE plpgsql AS $$
DECLARE
    o jsonb := e.payload->'data'->'object';
BEGIN
    IF e.type LIKE 'checkout.session.%' THEN
        SELECT * INTO outcome, bot FROM bd_ev_checkout(e.type, o);
    ELSIF e.type IN ('payment_intent.succeeded', 'payment_intent.payment_failed') THEN
        SELECT * INTO outcome, bot FROM bd_ev_intent(e.type, o);
    ELSIF e.type = 'payment_method.attached' THEN
        SELECT * INTO outcome, bot FROM bd_ev_card(o);
    ELSIF e.type = 'charge.refunded' THEN
        SELECT * INTO outcome, bot FROM bd_ev_refund(o);
    ELSIF e.type LIKE 'charge.dispute.%' THEN
        SELECT * INTO outcome, bot FROM bd_ev_dispute(o);
    ELSE
        outcome := 'ignored: ' || e.type;
    END IF;
END $$;

-- bd_stripe_step - claim one pending Stripe event (SKIP LOCKED: several billingd share
-- the table), act on it and mark it, in one transaction. An outcome "wait: ..." (an
-- event ahead of the one it depends on) or an error leaves it for later, with backoff
-- (1 s, 2 s, 5 s, ... up to 10 minutes apart; about half an hour in all), then it is
-- marked "gave up: ..." for people to look at. No row: nothing is due.
CREATE FUNCTION bd_stripe_step(OUT event_id text, OUT outcome text, OUT bot bigint)
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

-- bd_finish - billingd is done with a Telegram update (once: a second call is a no-op)
CREATE FUNCTION bd_finish(p_seq bigint, p_outcome text) RETURNS boolean
LANGUAGE sql AS $$
    WITH u AS (UPDATE tg_updates SET billing_done_at = now(), billing_outcome = p_outcome,
                      billing_claimed_until = NULL
                WHERE seq = p_seq AND billing_done_at IS NULL RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM u)
$$;

-- bd_open - lock a handed-over update that is not done; its bot, user and payload
CREATE FUNCTION bd_open(p_seq bigint, OUT bot bigint, OUT usr bigint, OUT payload jsonb)
LANGUAGE sql AS $$
    SELECT bot_id, coalesce((payload->'message'->'from'->>'id')::bigint,
                            (payload->'callback_query'->'from'->>'id')::bigint,
                            (payload->'pre_checkout_query'->'from'->>'id')::bigint), payload
      FROM tg_updates WHERE seq = p_seq AND billing_done_at IS NULL FOR UPDATE
$$;

-- bd_menu - /buy and the "buy" button: the active products as buttons (buy:<id>)
CREATE FUNCTION bd_menu(p_seq bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    kb jsonb;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    SELECT jsonb_agg(jsonb_build_array(jsonb_build_object(
               'text', format('%s – %s', label, bd_money(price, currency))
                       || CASE WHEN stars_price IS NOT NULL
                               THEN format(' or %s', bd_money(stars_price, 'XTR')) ELSE '' END,
               'callback_data', 'buy:' || id)) ORDER BY credits, pass_seconds, id)
      INTO kb FROM products WHERE bot_id = u.bot AND active;
    IF kb IS NULL THEN
        PERFORM bd_say(u.bot, u.usr, 'Nothing is for sale yet.');
    ELSE
        PERFORM bd_say(u.bot, u.usr, 'Choose what to buy:',
                       jsonb_build_object('inline_keyboard', kb));
    END IF;
    RETURN bd_finish(p_seq, 'menu');
END $$;

-- bd_say_finish - tell the user text and finish the update with outcome
CREATE FUNCTION bd_say_finish(p_seq bigint, p_text text, p_outcome text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    IF u.usr IS NOT NULL THEN
        PERFORM bd_say(u.bot, u.usr, p_text);
    END IF;
    RETURN bd_finish(p_seq, p_outcome);
END $$;

-- bd_product - what /buy<N> (p_ref 'credits:N') or a buy:<id> button (p_ref 'id:<id>')
-- names, active, of the bot
CREATE FUNCTION bd_product(p_bot bigint, p_ref text) RETURNS SETOF products
LANGUAGE sql STABLE AS $$
    SELECT * FROM products
     WHERE bot_id = p_bot AND active
       AND ((p_ref LIKE 'credits:%' AND credits = substr(p_ref, 9)::bigint
             AND pass_seconds = 0)
         OR (p_ref LIKE 'id:%' AND id = substr(p_ref, 4)::bigint))
     ORDER BY id LIMIT 1
$$;

-- bd_customer_save - remember a user's Stripe customer (the first one made wins); the
-- customer id to use
CREATE FUNCTION bd_customer_save(p_bot bigint, p_user bigint, p_customer text) RETURNS text
LANGUAGE sql AS $$
    INSERT INTO stripe_customers (bot_id, user_id, customer_id)
    VALUES (p_bot, p_user, p_customer) ON CONFLICT DO NOTHING;
    SELECT customer_id FROM stripe_customers WHERE bot_id = p_bot AND user_id = p_user;
$$;

-- bd_invoice - queue a Stars invoice (sendInvoice in XTR) for a product
CREATE FUNCTION bd_invoice(p_bot bigint, p_user bigint, pr products) RETURNS bigint
LANGUAGE sql AS $$
    SELECT queue_message(p_bot, p_user::text, 'sendInvoice', jsonb_build_object(
        'chat_id', p_user, 'title', left(pr.label, 32),
        'description', left(bd_what(pr.credits, pr.pass_seconds), 255),
        'payload', format('tgm:%s:%s', pr.id, p_user), 'provider_token', '',
        'currency', 'XTR',
        'prices', jsonb_build_array(jsonb_build_object('label', left(pr.label, 32),
                                                       'amount', pr.stars_price))),
        0::smallint, '{"source": "billingd"}'::jsonb)
$$;

-- bd_offer - the purchase of a product is ready: record the Checkout Session (when
-- there is one), send its link as a URL button, and a Stars invoice when the product
-- has a Stars price; finish the update
CREATE FUNCTION bd_offer(p_seq bigint, p_product bigint, p_session text, p_url text,
                         p_note text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    pr products%ROWTYPE;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    SELECT * INTO pr FROM products WHERE id = p_product;
    IF p_session IS NOT NULL THEN
        INSERT INTO payments (bot_id, user_id, product_id, kind, checkout_session_id,
                              update_seq, url, amount, currency, credits, pass_seconds)
        VALUES (u.bot, u.usr, pr.id, 'checkout', p_session, p_seq, p_url, pr.price,
                pr.currency, pr.credits, pr.pass_seconds)
        ON CONFLICT (checkout_session_id) DO NOTHING;
        PERFORM bd_say(u.bot, u.usr, format('%s: %s for %s.%s', pr.label,
            bd_what(pr.credits, pr.pass_seconds), bd_money(pr.price, pr.currency),
            coalesce(E'\n' || p_note, '')),
            jsonb_build_object('inline_keyboard', jsonb_build_array(jsonb_build_array(
                jsonb_build_object('text', 'Pay ' || bd_money(pr.price, pr.currency),
                                   'url', p_url)))));
    ELSIF p_note IS NOT NULL THEN
        PERFORM bd_say(u.bot, u.usr, p_note);
    END IF;
    IF pr.stars_price IS NOT NULL THEN
        PERFORM bd_invoice(u.bot, u.usr, pr);
    END IF;
    RETURN bd_finish(p_seq, CASE WHEN p_session IS NOT NULL THEN 'checkout ' || p_session
                                 WHEN pr.stars_price IS NOT NULL THEN 'stars invoice'
                                 ELSE 'not offered' END);
END $$;

-- bd_return_session - the Checkout Session a "/start paid_<ref>" names (Checkout's
-- success page sends the user back to the bot with it): the one made for update <ref>
-- of the same bot and user; NULL when there is none
CREATE FUNCTION bd_return_session(p_seq bigint, p_ref bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT p.checkout_session_id FROM payments p JOIN tg_updates u ON u.seq = p_seq
     WHERE p.update_seq = p_ref AND p.bot_id = u.bot_id AND p.kind = 'checkout'
       AND p.user_id = (u.payload->'message'->'from'->>'id')::bigint
$$;

-- bd_return - the user is back from Checkout's success page: fulfil from the Session
-- as billingd just retrieved it (o; NULL when there is none), exactly as its webhook
-- would (the same ledger key: one grant, whichever comes first), and say where it is
CREATE FUNCTION bd_return(p_seq bigint, o jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    r record;
    bal bigint;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    IF o IS NULL THEN
        PERFORM bd_say(u.bot, u.usr, 'Welcome back! /balance shows your credits.');
        RETURN bd_finish(p_seq, 'return: no such payment');
    END IF;
    SELECT * INTO r FROM bd_ev_checkout('checkout.session.completed', o);
    IF r.outcome = 'already granted' THEN
        SELECT credits INTO bal FROM bot_users WHERE bot_id = u.bot AND user_id = u.usr;
        PERFORM bd_say(u.bot, u.usr, format('✅ Your payment is confirmed. Your balance: %s'
                                            ' credits.', bal));
    ELSIF r.outcome LIKE 'pending%' THEN
        PERFORM bd_say(u.bot, u.usr, '⏳ Your payment is being processed: a message follows'
                                     ' as soon as it is complete.');
    END IF;
    RETURN bd_finish(p_seq, 'return: ' || r.outcome);
END $$;

-- bd_history - /history: the last purchases and the spending
CREATE FUNCTION bd_history(p_seq bigint) RETURNS boolean
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

-- bd_autorecharge - /autorecharge [on <credits> <below> | off]
CREATE FUNCTION bd_autorecharge(p_seq bigint, p_args text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    w text[] := regexp_split_to_array(lower(trim(coalesce(p_args, ''))), '\s+');
    pr products%ROWTYPE;
    card stripe_customers%ROWTYPE;
    txt text;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN false;
    END IF;
    SELECT * INTO card FROM stripe_customers WHERE bot_id = u.bot AND user_id = u.usr;
    IF w[1] = 'off' THEN
        UPDATE auto_recharge SET enabled = false, updated_at = now()
         WHERE bot_id = u.bot AND user_id = u.usr;
        txt := 'Auto-recharge is off.';
    ELSIF w[1] = 'on' AND w[2] ~ '^[0-9]{1,12}$' AND w[3] ~ '^[0-9]{1,12}$'
          AND w[3]::bigint > 0 THEN
        SELECT * INTO pr FROM bd_product(u.bot, 'credits:' || w[2]);
        IF pr.id IS NULL THEN
            txt := format('There is no package of %s credits: /buy lists them.', w[2]);
        ELSE
            INSERT INTO auto_recharge (bot_id, user_id, product_id, threshold)
            VALUES (u.bot, u.usr, pr.id, w[3]::bigint)
            ON CONFLICT (bot_id, user_id) DO UPDATE
               SET product_id = EXCLUDED.product_id, threshold = EXCLUDED.threshold,
                   enabled = true, armed = true, updated_at = now();
            txt := format('Auto-recharge is on: when your balance falls under %s credits,'
                          ' %s are bought for %s with your saved card.%s', w[3], pr.credits,
                          bd_money(pr.price, pr.currency),
                          CASE WHEN card.payment_method IS NULL THEN ' No card is saved yet:'
                               || ' buy once with /buy' || pr.credits || ' and it is kept.'
                               ELSE '' END);
        END IF;
    ELSE
        txt := E'Usage: /autorecharge on <credits> <below>, e.g. /autorecharge on 100 10\n'
               '/autorecharge off';
    END IF;
    PERFORM bd_say(u.bot, u.usr, txt);
    RETURN bd_finish(p_seq, 'autorecharge');
END $$;

-- bd_precheckout - is a Stars pre-checkout query for something still on sale at that
-- price? (ok, the error to show when not)
CREATE FUNCTION bd_precheckout(p_seq bigint, OUT query_id text, OUT ok boolean,
                               OUT error text)
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    q jsonb;
    part text[];
    pr products%ROWTYPE;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    q := u.payload->'pre_checkout_query';
    query_id := q->>'id';
    part := string_to_array(coalesce(q->>'invoice_payload', ''), ':');
    IF part[1] = 'tgm' AND part[2] ~ '^[0-9]{1,18}$' THEN
        SELECT * INTO pr FROM bd_product(u.bot, 'id:' || part[2]);
    END IF;
    ok := pr.id IS NOT NULL AND q->>'currency' = 'XTR'
          AND (q->>'total_amount')::bigint = pr.stars_price;
    IF NOT ok THEN
        error := 'This product is no longer on sale at this price. Send /buy again.';
    END IF;
END $$;

-- bd_star_paid - successful_payment in Stars: grant once (key: the Telegram charge id,
-- kept for refundStarPayment)
CREATE FUNCTION bd_star_paid(p_seq bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    sp jsonb;
    part text[];
    pr products%ROWTYPE;
    pid bigint;
    charge text;
BEGIN
    SELECT * INTO u FROM bd_open(p_seq);
    IF u.bot IS NULL THEN
        RETURN NULL;
    END IF;
    sp := u.payload->'message'->'successful_payment';
    charge := sp->>'telegram_payment_charge_id';
    part := string_to_array(coalesce(sp->>'invoice_payload', ''), ':');
    IF part[1] = 'tgm' AND part[2] ~ '^[0-9]{1,18}$' THEN
        SELECT * INTO pr FROM products WHERE id = part[2]::bigint AND bot_id = u.bot;
    END IF;
    IF pr.id IS NULL OR charge IS NULL THEN
        PERFORM bd_finish(p_seq, 'failed: a payment for an unknown product');
        RETURN 'failed: a payment for an unknown product';
    END IF;
    INSERT INTO payments (bot_id, user_id, product_id, kind, telegram_charge_id, update_seq,
                          amount, currency, credits, pass_seconds)
    VALUES (u.bot, u.usr, pr.id, 'stars', charge, p_seq, (sp->>'total_amount')::bigint,
            sp->>'currency', pr.credits, pr.pass_seconds)
    ON CONFLICT (telegram_charge_id) DO NOTHING;
    SELECT id INTO pid FROM payments WHERE telegram_charge_id = charge;
    PERFORM bd_grant(pid, 'tg:star:' || charge, 'Telegram Stars');
    PERFORM bd_finish(p_seq, 'stars paid ' || charge);
    RETURN 'stars paid';
END $$;

-- Auto-recharge trigger: a debit that leaves the balance under an armed threshold
-- makes one recharge attempt (and disarms); a balance back at or over it re-arms.
CREATE FUNCTION bd_recharge_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    a auto_recharge%ROWTYPE;
BEGIN
    SELECT * INTO a FROM auto_recharge
     WHERE bot_id = NEW.bot_id AND user_id = NEW.user_id AND enabled FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF NEW.balance >= a.threshold THEN
        IF NOT a.armed THEN
            UPDATE auto_recharge SET armed = true
             WHERE bot_id = NEW.bot_id AND user_id = NEW.user_id;
        END IF;
    ELSIF NEW.kind = 'debit' AND NEW.credits < 0 AND a.armed THEN
        UPDATE auto_recharge SET armed = false
         WHERE bot_id = NEW.bot_id AND user_id = NEW.user_id;
        INSERT INTO recharges (bot_id, user_id, product_id, ledger_id)
        VALUES (NEW.bot_id, NEW.user_id, a.product_id, NEW.id);
        PERFORM pg_notify('tgm_billing', 'recharge');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_recharge AFTER INSERT ON ledger
    FOR EACH ROW EXECUTE FUNCTION bd_recharge_trigger();

-- bd_recharge_claim - one pending recharge, leased for 60 s, with what billingd needs
CREATE FUNCTION bd_recharge_claim(OUT id bigint, OUT bot bigint, OUT usr bigint,
                                  OUT product bigint, OUT price bigint, OUT currency text,
                                  OUT customer text, OUT payment_method text,
                                  OUT username text, OUT label text,
                                  OUT stripe_price text, OUT attempts integer)
LANGUAGE sql AS $$
    WITH c AS (SELECT r.id FROM recharges r WHERE r.status = 'pending'
                 AND (r.claimed_until IS NULL OR r.claimed_until < now())
               ORDER BY r.id LIMIT 1 FOR UPDATE SKIP LOCKED),
         u AS (UPDATE recharges r SET claimed_until = now() + interval '60 seconds',
                      attempts = r.attempts + 1
                 FROM c WHERE r.id = c.id RETURNING r.*)
    SELECT u.id, u.bot_id, u.user_id, p.id, p.price, p.currency, s.customer_id,
           s.payment_method, b.username, p.label, p.stripe_price_id, u.attempts
      FROM u JOIN products p ON p.id = u.product_id JOIN bots b ON b.id = u.bot_id
      LEFT JOIN stripe_customers s ON s.bot_id = u.bot_id AND s.user_id = u.user_id
$$;

-- bd_recharge_paid - the off-session PaymentIntent succeeded: grant (key: the
-- PaymentIntent, as its payment_intent.succeeded event would) and close the attempt
CREATE FUNCTION bd_recharge_paid(p_id bigint, p_intent text, p_amount bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    r recharges%ROWTYPE;
    pr products%ROWTYPE;
    pid bigint;
BEGIN
    SELECT * INTO r FROM recharges WHERE id = p_id FOR UPDATE;
    SELECT * INTO pr FROM products WHERE id = r.product_id;
    INSERT INTO payments (bot_id, user_id, product_id, kind, payment_intent_id, recharge_id,
                          amount, currency, credits, pass_seconds)
    VALUES (r.bot_id, r.user_id, pr.id, 'recharge', p_intent, r.id,
            coalesce(p_amount, pr.price), pr.currency, pr.credits, pr.pass_seconds)
    ON CONFLICT (payment_intent_id) DO NOTHING;
    SELECT id INTO pid FROM payments WHERE payment_intent_id = p_intent;
    PERFORM bd_grant(pid, 'stripe:pi:' || p_intent, 'auto-recharge');
    UPDATE recharges SET status = 'paid', detail = p_intent, done_at = now(),
           claimed_until = NULL WHERE id = p_id;
    RETURN true;
END $$;

-- bd_recharge_link - the card could not be charged off-session (p_why): send a
-- Checkout link instead (p_session/p_url; NULL when none could be made) and say why
CREATE FUNCTION bd_recharge_link(p_id bigint, p_why text, p_session text, p_url text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    r recharges%ROWTYPE;
    pr products%ROWTYPE;
BEGIN
    SELECT * INTO r FROM recharges WHERE id = p_id AND status = 'pending' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT * INTO pr FROM products WHERE id = r.product_id;
    IF p_session IS NOT NULL THEN
        INSERT INTO payments (bot_id, user_id, product_id, kind, checkout_session_id,
                              recharge_id, url, amount, currency, credits, pass_seconds)
        VALUES (r.bot_id, r.user_id, pr.id, 'checkout', p_session, r.id, p_url, pr.price,
                pr.currency, pr.credits, pr.pass_seconds)
        ON CONFLICT (checkout_session_id) DO NOTHING;
    END IF;
    PERFORM bd_say(r.bot_id, r.user_id, format('⚠️ Auto-recharge could not charge your card:'
        ' %s%s', p_why, CASE WHEN p_session IS NULL THEN ' Use /buy to top up.'
                             ELSE ' Pay here to top up:' END),
        CASE WHEN p_session IS NULL THEN NULL
             ELSE jsonb_build_object('inline_keyboard', jsonb_build_array(jsonb_build_array(
                 jsonb_build_object('text', 'Pay ' || bd_money(pr.price, pr.currency),
                                    'url', p_url)))) END);
    UPDATE recharges SET status = CASE WHEN p_session IS NULL THEN 'failed' ELSE 'link' END,
           detail = p_why, done_at = now(), claimed_until = NULL WHERE id = p_id;
    RETURN true;
END $$;
