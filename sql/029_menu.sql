-- 029_menu.sql - the admin menu's prompts (webhookd/menu.c, docs/admin-centre.md): when
-- the menu asks an admin for text (a search, an amount, a price, a broadcast), it
-- remembers here which view the reply to its message answers, so the answer survives a
-- restart of webhookd. A reply to the menu message is looked up by (bot, chat, message);
-- rows older than a day answer nothing.
CREATE TABLE menu_prompts (
    bot_id      bigint NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    chat_id     bigint NOT NULL,
    message_id  bigint NOT NULL,
    view        text NOT NULL CHECK (view ~ '^[a-z]{1,3}$'),
    arg         bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, chat_id, message_id)
);
