-- api_keys_notify.sql - trigger: NOTIFY gatewayd of a revoked or rescoped API key
-- gatewayd caches API keys and LISTENs here: a revoked key leaves every cache at once.
-- (first created by 002_gateway.sql; this file holds its current text)
CREATE OR REPLACE FUNCTION api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tgm_api_keys', NEW.id::text);
    RETURN NEW;
END $$;
