-- 019_campaigns.sql - broadcasts: a campaign sends one message (and may gift credits) to
-- an audience of the users of one or several bots of a tenant. Started, its audience is
-- materialised at once into campaign_recipients and into ordinary queued messages at
-- priority bulk, which senderd paces like any other (sql/functions/campaign_start.sql);
-- pause, resume and cancel change those messages (campaign_pause, campaign_resume,
-- campaign_cancel). Presets keep an audience and a message to run again.

-- state: draft (editable, nothing queued), running, paused, canceled; "done" is a
-- running campaign with nothing left open, told by the readers. retry_of: the campaign
-- whose failed recipients this one sends to again; root_id: the first of such a chain,
-- whose id keys the gift in the ledger (once per user, however often it is retried).
CREATE TABLE campaigns (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    bigint NOT NULL REFERENCES tenants(id),
    name         text NOT NULL DEFAULT '',
    bot_ids      bigint[] NOT NULL,
    audience     jsonb NOT NULL DEFAULT '{}',
    message      jsonb NOT NULL,          -- as given (text, parse_mode, buttons, ...)
    method       text NOT NULL,           -- sendMessage, sendPhoto, sendDocument
    params       jsonb NOT NULL,          -- the checked Telegram parameters, a template
    gift         bigint CHECK (gift > 0), -- credits to each recipient, or NULL
    start_at     timestamptz,             -- NULL: when started
    state        text NOT NULL DEFAULT 'draft'
                 CHECK (state IN ('draft', 'running', 'paused', 'canceled')),
    retry_of     bigint REFERENCES campaigns(id),
    root_id      bigint REFERENCES campaigns(id),
    recipients   integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    paused_at    timestamptz,
    canceled_at  timestamptz
);
CREATE INDEX campaigns_tenant ON campaigns (tenant_id, id);

-- One row per person a started campaign reaches: the bot that sends, the user, the
-- queued message (its id taken before the INSERT), and the gift's ledger entry with
-- the balance after it.
CREATE TABLE campaign_recipients (
    campaign_id  bigint NOT NULL REFERENCES campaigns(id),
    bot_id       bigint NOT NULL,
    user_id      bigint NOT NULL,
    message_id   bigint,
    ledger_id    bigint,
    balance      bigint,
    PRIMARY KEY (campaign_id, bot_id, user_id)
);
CREATE INDEX campaign_recipients_message ON campaign_recipients (campaign_id, message_id);

-- A saved audience and message (and gift) to run again: POST /v1/campaigns with its id.
CREATE TABLE campaign_presets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id),
    name        text NOT NULL,
    bot_ids     bigint[] NOT NULL,
    audience    jsonb NOT NULL DEFAULT '{}',
    message     jsonb NOT NULL,
    method      text NOT NULL,
    params      jsonb NOT NULL,
    gift        bigint CHECK (gift > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaign_presets_tenant ON campaign_presets (tenant_id, id);

-- The audience filters read bot_users by bot; blocked chats are left out by this.
CREATE INDEX chats_blocked ON chats (bot_id, chat_id) WHERE blocked_at IS NOT NULL;
