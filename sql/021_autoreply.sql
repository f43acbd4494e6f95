-- 021_autoreply.sql - auto-replies: each bot's rules in order (a keyword, office hours
-- with an away message, a first-contact greeting), each firing of a rule (at most one
-- per user per rule window, and one per update), and each user's inbound rate for the
-- flood protection. webhookd reads and writes them (sql/functions/ar_fire.sql,
-- ar_flood.sql); gatewayd's /v1/bots/{id}/autoreplies edits the rules.

-- kind keyword: match and pattern; kind hours: time_zone, days (ISO 1 = Monday), opens
-- and closes (closes <= opens: the hours run past midnight; equal: the whole day); text:
-- the owner's answer, sent as it is.
CREATE TABLE autoreplies (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id          bigint NOT NULL REFERENCES bots(id),
    position        integer NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('keyword', 'hours', 'greeting')),
    match           text CHECK (match IN ('exact', 'contains', 'regex')),
    pattern         text CHECK (length(pattern) BETWEEN 1 AND 200),
    time_zone       text,
    days            smallint[] CHECK (days <@ '{1,2,3,4,5,6,7}' AND cardinality(days) > 0),
    opens           time,
    closes          time,
    text            text NOT NULL CHECK (length(text) BETWEEN 1 AND 4096),
    window_seconds  integer NOT NULL CHECK (window_seconds BETWEEN 10 AND 2592000),
    enabled         boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT autoreplies_keyword
        CHECK ((kind = 'keyword') = (match IS NOT NULL) AND (match IS NULL) = (pattern IS NULL)),
    CONSTRAINT autoreplies_hours
        CHECK ((kind = 'hours') = (time_zone IS NOT NULL) AND (time_zone IS NULL) = (days IS NULL)
               AND (time_zone IS NULL) = (opens IS NULL) AND (time_zone IS NULL) = (closes IS NULL))
);
CREATE INDEX autoreplies_bot ON autoreplies (bot_id, position, id);

-- a firing: the rule that answered, the user, when, and the message queued (rule_id is
-- kept when the rule is deleted: the timeline still shows what was said)
CREATE TABLE autoreply_firings (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bot_id       bigint NOT NULL REFERENCES bots(id),
    rule_id      bigint NOT NULL,
    user_id      bigint NOT NULL,
    update_seq   bigint NOT NULL,
    message_id   bigint,
    fired_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bot_id, update_seq)
);
CREATE INDEX autoreply_firings_window ON autoreply_firings (rule_id, user_id, fired_at);
CREATE INDEX autoreply_firings_user ON autoreply_firings (bot_id, user_id, id);

-- a user's inbound rate: messages counted in the window that began at window_at; the
-- decision for the last update counted (last_seq) is kept so that an update processed
-- again gets the same one; flooded_at is the last message over the rate (an episode
-- goes on while they come less than ten minutes apart).
CREATE TABLE autoreply_flood (
    bot_id         bigint NOT NULL REFERENCES bots(id),
    user_id        bigint NOT NULL,
    window_at      timestamptz NOT NULL,
    count          integer NOT NULL,
    last_seq       bigint NOT NULL,
    last_flooding  boolean NOT NULL DEFAULT false,
    last_tell      boolean NOT NULL DEFAULT false,
    flooded_at     timestamptz,
    PRIMARY KEY (bot_id, user_id)
);
