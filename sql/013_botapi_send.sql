-- 013_botapi_send.sql - the Bot API endpoint's sending methods: a message sent through
-- /bot<token>/<method> is marked botapi, so senderd keeps Telegram's own answer to it
-- (botapi_answers: the HTTP status and body, as Telegram sent them) for gatewayd to
-- hand back; the files it uploaded wait in botapi_files until it is sent.
ALTER TABLE messages ADD COLUMN botapi boolean NOT NULL DEFAULT false;

CREATE TABLE botapi_answers (
    message_id   bigint PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    http_status  integer NOT NULL,
    body         text NOT NULL,
    answered_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE botapi_files (
    message_id   bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    field        text NOT NULL,
    filename     text NOT NULL,
    content_type text,
    data         bytea NOT NULL,
    PRIMARY KEY (message_id, field)
);
