-- 026_media_cache.sql - the inbox's media previews without a trip to Telegram each time
-- (gatewayd/inboxmedia.c): a user's message keeps its file's file_unique_id (Telegram's
-- id of the file itself, the same for every bot, where file_id differs per bot), and a
-- file downloaded once for a preview is kept here by that id, up to [gatewayd]
-- media_cache_file_max bytes a file and media_cache_max bytes in all (the files kept
-- longest go first). Only a tenant's own items lead to a file: the route checks the
-- item's tenant before it reads the cache.
ALTER TABLE conversation_items ADD COLUMN file_unique_id text;

CREATE TABLE media_cache (
    file_unique_id  text PRIMARY KEY,
    content_type    text NOT NULL,
    size            integer NOT NULL CHECK (size >= 0),
    data            bytea NOT NULL,
    cached_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_cache_age ON media_cache (cached_at, file_unique_id);
