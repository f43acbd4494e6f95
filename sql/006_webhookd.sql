-- 006_webhookd.sql - the inbound half: Telegram updates and Stripe events as webhookd
-- stored them (once, by their ids) and the state of their processing; how each bot
-- receives its updates; the users a bot knows, with their credits and forum topic;
-- and the credits ledger with its one function, ledger_apply.

-- How webhookd receives a bot's updates. settings.updates says what is wanted (auto,
-- webhook, polling, off); intake is what webhookd last set up at Telegram.
ALTER TABLE bots ADD COLUMN webhook_secret text;   -- sealed, "bot:<telegram_id>:webhook"
ALTER TABLE bots ADD COLUMN intake text CHECK (intake IN ('webhook', 'polling'));
ALTER TABLE bots ADD COLUMN intake_error text;
ALTER TABLE bots ADD COLUMN poll_offset bigint NOT NULL DEFAULT 0;

-- A change that matters to webhookd (a bot added, enabled, disabled, deleted, its
-- settings or token changed) is announced on channel tgm_bots with the bot's id.
CREATE FUNCTION bots_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tgm_bots', NEW.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER bots_notify AFTER INSERT OR UPDATE OF enabled, settings, deleted_at, token_sealed
    ON bots FOR EACH ROW EXECUTE FUNCTION bots_notify();

-- One row per Telegram update, committed before webhookd answers 2xx. Processed in
-- seq order within a chat; claimed_until keeps two webhookd from taking the same one.
CREATE TABLE tg_updates (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id         bigint NOT NULL REFERENCES bots(id),
    update_id      bigint NOT NULL,
    chat_id        bigint,              -- the chat whose order it keeps; NULL: none
    kind           text NOT NULL,       -- message, callback_query, my_chat_member, ...
    payload        jsonb NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    claimed_until  timestamptz,
    attempts       integer NOT NULL DEFAULT 0,
    processed_at   timestamptz,
    outcome        text,                -- what processing did, for people
    billing_at     timestamptz,         -- handed to billingd (a purchase command, a payment)
    billing_done_at timestamptz,        -- billingd is done with it
    UNIQUE (bot_id, update_id)
);
CREATE INDEX tg_updates_pending ON tg_updates (bot_id, chat_id, seq)
    WHERE processed_at IS NULL;
CREATE INDEX tg_updates_todo ON tg_updates (seq) WHERE processed_at IS NULL;
CREATE INDEX tg_updates_billing ON tg_updates (seq)
    WHERE billing_at IS NOT NULL AND billing_done_at IS NULL;

-- One row per Stripe event, verified and committed before webhookd answers 200;
-- billingd processes it.
CREATE TABLE stripe_events (
    id             text PRIMARY KEY,    -- evt_...
    type           text NOT NULL,
    object_id      text,                -- data.object.id
    livemode       boolean NOT NULL DEFAULT false,
    created        timestamptz,         -- Stripe's "created"
    payload        jsonb NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    claimed_until  timestamptz,
    attempts       integer NOT NULL DEFAULT 0,
    processed_at   timestamptz,
    outcome        text
);
CREATE INDEX stripe_events_pending ON stripe_events (received_at) WHERE processed_at IS NULL;

-- The users a bot knows (from their updates), their balance and their forum topic in
-- the bot's admin group. credits, pass_until, owed and spent change only through
-- ledger_apply.
CREATE TABLE bot_users (
    bot_id          bigint NOT NULL REFERENCES bots(id),
    user_id         bigint NOT NULL,
    first_name      text NOT NULL DEFAULT '',
    last_name       text,
    username        text,
    language_code   text,
    credits         bigint NOT NULL DEFAULT 0 CHECK (credits >= 0),
    pass_until      timestamptz,
    owed            bigint NOT NULL DEFAULT 0 CHECK (owed >= 0),
    spent           bigint NOT NULL DEFAULT 0,  -- credits spent, lifetime
    messages        bigint NOT NULL DEFAULT 0,  -- messages received from the user
    banned_at       timestamptz,
    low_warned      boolean NOT NULL DEFAULT false,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, user_id)
);

-- A user's forum topic in the bot's admin group (one per user and group). The row is
-- made first, without thread_id, by whoever creates the topic (creating_until keeps
-- others off meanwhile), so two racing messages never make two topics.
CREATE TABLE topics (
    bot_id          bigint NOT NULL REFERENCES bots(id),
    user_id         bigint NOT NULL,
    admin_chat_id   bigint NOT NULL,
    thread_id       bigint,
    name            text NOT NULL DEFAULT '',
    creating_until  timestamptz,
    closed_at       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, user_id, admin_chat_id),
    UNIQUE (bot_id, admin_chat_id, thread_id)
);

-- The topic bridge's sends that failed in a way webhookd repairs: a copy into a topic
-- that is gone (recreate it, send again), a copy to a user who blocked the bot (say so
-- in the topic). Small: only such failures are in it.
CREATE INDEX messages_bridge_failed ON messages (id)
    WHERE status = 'failed' AND metadata ? 'bridge';

-- The ledger: every change of a user's credits or time pass, keyed by its source
-- (a Stripe event or session, a Telegram update, an admin action, ...). Append only.
CREATE TABLE ledger (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id          bigint NOT NULL,
    user_id         bigint NOT NULL,
    key             text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('grant', 'debit', 'free', 'gift',
                                                  'adjust', 'refund', 'pass')),
    requested       bigint NOT NULL,    -- the change asked for
    credits         bigint NOT NULL,    -- the change made
    owed            bigint NOT NULL DEFAULT 0,  -- what a refund could not take back
    pass_until      timestamptz,        -- the pass's end after this entry
    balance         bigint NOT NULL,    -- credits after this entry
    amount          bigint,             -- money, in minor units, when money moved
    currency        text,
    reason          text,
    at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bot_id, key),
    FOREIGN KEY (bot_id, user_id) REFERENCES bot_users (bot_id, user_id)
);
CREATE INDEX ledger_user ON ledger (bot_id, user_id, id);

-- ledger_apply - the one way credits and passes change. Adds delta credits (negative:
-- a debit) and pass_seconds of time pass to the user, and appends the entry, under
-- a lock on (bot, key) and the user's row lock. The same (bot, key) again changes nothing and returns the first
-- entry (replayed). A debit larger than the balance is refused (nothing written)
-- unless partial: then it takes what there is and records the rest as owed (refunds).
-- The user row must exist.
CREATE FUNCTION ledger_apply(p_bot bigint, p_user bigint, p_key text, p_kind text,
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

-- queue_message - put one Telegram send of a bot into the outbound queue (the way
-- webhookd and billingd send: replies, the topic bridge, receipts). Its id.
CREATE FUNCTION queue_message(p_bot bigint, p_chat text, p_method text, p_params jsonb,
                              p_priority smallint DEFAULT 0, p_metadata jsonb DEFAULT NULL)
RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO messages (tenant_id, bot_id, chat, method, params, priority, metadata)
    SELECT b.tenant_id, b.id, p_chat, p_method, p_params, p_priority, p_metadata
      FROM bots b WHERE b.id = p_bot
    RETURNING id
$$;

-- wh_record - what an update tells about its chat and user: the chat is recorded (a
-- message from it clears its blocked mark; my_chat_member sets or clears it; a group
-- that moved to a supergroup keeps a pointer to its new id), and a user writing in a
-- private chat, pressing a button there or paying is recorded with its names. Returns the
-- user (NULL when none) as it is now. p_count: count a message in bot_users.messages
-- (false when the update is processed again).
CREATE FUNCTION wh_record(p_bot bigint, p_update jsonb, p_count boolean DEFAULT true)
RETURNS TABLE (user_id bigint, new_user boolean, credits bigint, pass_active boolean,
               banned boolean)
LANGUAGE plpgsql AS $$
DECLARE
    msg jsonb := coalesce(p_update->'message', p_update->'edited_message',
                          p_update->'channel_post', p_update->'callback_query'->'message');
    member jsonb := p_update->'my_chat_member';
    chat jsonb := coalesce(msg->'chat', member->'chat');
    who jsonb := coalesce(p_update->'message'->'from', p_update->'edited_message'->'from',
                          p_update->'callback_query'->'from', member->'from',
                          p_update->'pre_checkout_query'->'from');
    v_chat bigint := (chat->>'id')::bigint;
    status text := member->'new_chat_member'->>'status';
    inserted boolean;
BEGIN
    IF v_chat IS NOT NULL AND chat->>'type' IN ('private', 'group', 'supergroup', 'channel')
    THEN
        INSERT INTO chats AS c (bot_id, chat_id, type, title, username)
        VALUES (p_bot, v_chat, chat->>'type', chat->>'title', chat->>'username')
        ON CONFLICT (bot_id, chat_id) DO UPDATE
           SET type = EXCLUDED.type, title = EXCLUDED.title, username = EXCLUDED.username,
               last_seen_at = now();
        IF member IS NOT NULL AND status IN ('kicked', 'left') THEN
            UPDATE chats c SET blocked_at = now(),
                   blocked_reason = CASE WHEN chat->>'type' = 'private'
                       THEN 'Forbidden: bot was blocked by the user'
                       ELSE 'Forbidden: bot was removed from the chat' END
             WHERE c.bot_id = p_bot AND c.chat_id = v_chat;
        ELSIF member IS NOT NULL OR p_update ? 'message' THEN
            UPDATE chats c SET blocked_at = NULL, blocked_reason = NULL
             WHERE c.bot_id = p_bot AND c.chat_id = v_chat
               AND c.blocked_at IS NOT NULL;
        END IF;
        IF msg ? 'migrate_to_chat_id' THEN
            UPDATE chats c SET migrated_to = (msg->>'migrate_to_chat_id')::bigint
             WHERE c.bot_id = p_bot AND c.chat_id = v_chat;
        END IF;
    END IF;
    IF who IS NULL OR (who->>'is_bot')::boolean
       OR (chat IS NOT NULL AND chat->>'type' <> 'private') THEN
        RETURN;
    END IF;
    INSERT INTO bot_users AS u (bot_id, user_id, first_name, last_name, username,
                                language_code, messages)
    VALUES (p_bot, (who->>'id')::bigint, coalesce(who->>'first_name', ''),
            who->>'last_name', who->>'username', who->>'language_code',
            CASE WHEN p_count AND p_update ? 'message' THEN 1 ELSE 0 END)
    ON CONFLICT ON CONSTRAINT bot_users_pkey DO UPDATE
       SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
           username = EXCLUDED.username, language_code = EXCLUDED.language_code,
           last_seen_at = now(),
           messages = u.messages + CASE WHEN p_count AND p_update ? 'message' THEN 1 ELSE 0 END
    RETURNING (xmax = 0) INTO inserted;
    RETURN QUERY SELECT u.user_id, inserted, u.credits,
                        coalesce(u.pass_until > now(), false), u.banned_at IS NOT NULL
                   FROM bot_users u
                  WHERE u.bot_id = p_bot AND u.user_id = (who->>'id')::bigint;
END $$;

-- wh_finish - an update is processed: queue its replies (a JSON array of
-- {"chat", "method", "params", "meta"?}: meta joins the message's metadata) at high priority, hand it to billingd when p_billing,
-- and mark it, in one transaction. A second call for the same update changes nothing.
-- The number of replies queued.
CREATE FUNCTION wh_finish(p_seq bigint, p_outcome text, p_replies jsonb,
                          p_billing boolean DEFAULT false)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    b bigint;
    n integer := 0;
BEGIN
    UPDATE tg_updates SET processed_at = now(), outcome = p_outcome, claimed_until = NULL,
           billing_at = CASE WHEN p_billing THEN now() END
     WHERE seq = p_seq AND processed_at IS NULL RETURNING bot_id INTO b;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    SELECT count(queue_message(b, r->>'chat', r->>'method', r->'params', 0::smallint,
                               jsonb_build_object('source', 'webhookd', 'update', p_seq)
                               || coalesce(r->'meta', '{}'::jsonb)))
      INTO n FROM jsonb_array_elements(coalesce(p_replies, '[]')) r;
    RETURN n;
END $$;
