-- 014_botapi_updates.sql - the Bot API endpoint's receiving half: a bot reads the
-- updates webhookd stored (tg_updates) with getUpdates, or has tgm forward them to a
-- webhook of its own. botapi_updates keeps, per bot, the first update_id not yet
-- confirmed (an offset, or a forward that succeeded, moves it; it never goes back),
-- the update kinds it wants, and its own webhook with the last forwarding error.
-- A new update is announced on channel tgm_updates with its bot's id.
CREATE TABLE botapi_updates (
    bot_id          bigint PRIMARY KEY REFERENCES bots(id),
    next_update_id  bigint NOT NULL DEFAULT 0,
    allowed_updates text[],             -- NULL or empty: all but Telegram's opt-in kinds
    webhook_url     text,               -- the bot's own webhook, NULL: none
    webhook_secret  text,               -- its secret_token as the bot gave it
    webhook_error_at timestamptz,
    webhook_error   text,
    webhook_set_at  timestamptz
);

CREATE FUNCTION tg_updates_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tgm_updates', b::text)
       FROM (SELECT DISTINCT bot_id AS b FROM new_updates WHERE update_id >= 0) s;
    RETURN NULL;
END $$;
CREATE TRIGGER tg_updates_notify AFTER INSERT ON tg_updates
    REFERENCING NEW TABLE AS new_updates FOR EACH STATEMENT
    EXECUTE FUNCTION tg_updates_notify();

-- botapi_wanted - an update of kind is one a bot that allowed these kinds receives
-- (none listed: every kind but chat_member, message_reaction, message_reaction_count)
CREATE FUNCTION botapi_wanted(p_kind text, p_allowed text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN coalesce(cardinality(p_allowed), 0) = 0
           THEN p_kind NOT IN ('chat_member', 'message_reaction', 'message_reaction_count')
           ELSE p_kind = ANY(p_allowed) END
$$;

-- botapi_state - the bot's row, made on first need
CREATE FUNCTION botapi_state(p_bot bigint) RETURNS botapi_updates
LANGUAGE plpgsql AS $$
DECLARE
    s botapi_updates%ROWTYPE;
BEGIN
    SELECT * INTO s FROM botapi_updates WHERE bot_id = p_bot;
    IF NOT FOUND THEN
        INSERT INTO botapi_updates (bot_id) VALUES (p_bot) ON CONFLICT DO NOTHING;
        SELECT * INTO s FROM botapi_updates WHERE bot_id = p_bot;
    END IF;
    RETURN s;
END $$;

-- botapi_get_updates - getUpdates: confirm the updates below p_offset (a negative
-- offset keeps only the last -p_offset of the wanted kinds), remember p_allowed unless NULL, and return
-- the first p_limit unconfirmed updates of the last 24 hours that the bot wants, as
-- a JSON array of the stored Update objects; NULL while the bot has a webhook of its
-- own (Telegram's 409). Writes only when something changes.
CREATE FUNCTION botapi_get_updates(p_bot bigint, p_offset bigint, p_limit integer,
                                   p_allowed text[])
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    s botapi_updates%ROWTYPE := botapi_state(p_bot);
    v_out text;
BEGIN
    IF s.webhook_url IS NOT NULL THEN
        RETURN NULL;
    END IF;
    IF p_offset < 0 THEN
        SELECT coalesce(min(update_id), s.next_update_id) INTO p_offset
          FROM (SELECT update_id FROM tg_updates
                 WHERE bot_id = p_bot AND update_id >= s.next_update_id
                   AND received_at > now() - interval '24 hours'
                   AND botapi_wanted(kind, coalesce(p_allowed, s.allowed_updates))
                 ORDER BY update_id DESC LIMIT -p_offset) t;
    END IF;
    IF p_offset > s.next_update_id
       OR (p_allowed IS NOT NULL AND p_allowed IS DISTINCT FROM s.allowed_updates) THEN
        UPDATE botapi_updates
           SET next_update_id = greatest(next_update_id, p_offset),
               allowed_updates = coalesce(p_allowed, allowed_updates)
         WHERE bot_id = p_bot RETURNING * INTO s;
    END IF;
    SELECT coalesce(json_agg(payload ORDER BY update_id)::text, '[]') INTO v_out
      FROM (SELECT update_id, payload FROM tg_updates
             WHERE bot_id = p_bot AND update_id >= s.next_update_id
               AND received_at > now() - interval '24 hours'
               AND botapi_wanted(kind, s.allowed_updates)
             ORDER BY update_id LIMIT p_limit) t;
    RETURN v_out;
END $$;

-- botapi_pending - the updates a bot has not confirmed yet (getWebhookInfo)
CREATE FUNCTION botapi_pending(p_bot bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM tg_updates u
      LEFT JOIN botapi_updates s ON s.bot_id = p_bot
     WHERE u.bot_id = p_bot AND u.update_id >= coalesce(s.next_update_id, 0)
       AND u.received_at > now() - interval '24 hours'
       AND botapi_wanted(u.kind, s.allowed_updates)
$$;

-- botapi_drop_pending - confirm every update stored so far (drop_pending_updates)
CREATE FUNCTION botapi_drop_pending(p_bot bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM botapi_state(p_bot);
    UPDATE botapi_updates
       SET next_update_id = greatest(next_update_id,
             (SELECT coalesce(max(update_id), -1) + 1 FROM tg_updates WHERE bot_id = p_bot))
     WHERE bot_id = p_bot;
END $$;

-- botapi_delete_webhook - stop forwarding to the bot's webhook (and confirm every
-- update stored so far when p_drop); true if there was one
CREATE FUNCTION botapi_delete_webhook(p_bot bigint, p_drop boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    had boolean := (botapi_state(p_bot)).webhook_url IS NOT NULL;
BEGIN
    IF p_drop THEN
        PERFORM botapi_drop_pending(p_bot);
    END IF;
    IF had THEN
        UPDATE botapi_updates SET webhook_url = NULL, webhook_secret = NULL,
               webhook_error_at = NULL, webhook_error = NULL, webhook_set_at = NULL
         WHERE bot_id = p_bot;
    END IF;
    RETURN had;
END $$;

-- botapi_set_webhook - forward the bot's updates to p_url from now on, with
-- p_secret as X-Telegram-Bot-Api-Secret-Token; p_allowed as in getUpdates; p_drop
-- confirms every update stored so far
CREATE FUNCTION botapi_set_webhook(p_bot bigint, p_url text, p_secret text,
                                   p_allowed text[], p_drop boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM botapi_state(p_bot);
    IF p_drop THEN
        PERFORM botapi_drop_pending(p_bot);
    END IF;
    UPDATE botapi_updates
       SET webhook_url = p_url, webhook_secret = p_secret,
           allowed_updates = coalesce(p_allowed, allowed_updates),
           webhook_error_at = CASE WHEN webhook_url IS DISTINCT FROM p_url THEN NULL
                                   ELSE webhook_error_at END,
           webhook_error = CASE WHEN webhook_url IS DISTINCT FROM p_url THEN NULL
                                ELSE webhook_error END,
           webhook_set_at = now()
     WHERE bot_id = p_bot;
    PERFORM pg_notify('tgm_botapi_webhooks', p_bot::text);
END $$;
