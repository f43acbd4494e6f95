-- 011_botapi.sql - the Bot-API-compatible endpoint /bot<token>/<method> can be
-- switched off per tenant: then its bots' tokens are answered 401 there.
ALTER TABLE tenants ADD COLUMN botapi_enabled boolean NOT NULL DEFAULT true;
