-- gatewayd caches API keys and LISTENs here: a revoked key leaves every cache at once.
CREATE OR REPLACE FUNCTION api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tgm_api_keys', NEW.id::text);
    RETURN NEW;
END $$;
