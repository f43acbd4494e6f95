-- 004_callbacks.sql - delivery callbacks: a signed POST to the app on each final
-- state of a message that has a callback_url (or whose tenant has a webhook_url),
-- kept in a table until delivered so that no callback is lost to a crash.

-- Each tenant signs its callbacks (Standard Webhooks) with its own secret, made by
-- tgmctl or gatewayd when the tenant is created ("whsec_" + base64 of 24 bytes).
ALTER TABLE tenants ADD COLUMN webhook_secret text;
ALTER TABLE tenants ADD COLUMN webhook_url text;

CREATE TABLE callbacks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id       bigint NOT NULL REFERENCES messages(id),
    tenant_id        bigint NOT NULL REFERENCES tenants(id),
    url              text NOT NULL,
    payload          jsonb NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed')),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
CREATE INDEX callbacks_due ON callbacks (next_attempt_at) WHERE status = 'pending';
