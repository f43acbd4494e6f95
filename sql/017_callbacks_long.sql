-- 017_callbacks_long.sql - delivery callbacks for the long run: a tenant's signing secret
-- can be rotated with the old one still valid for a while (callbacks then carry both
-- signatures), and failed callbacks are listed per tenant to be redelivered.
ALTER TABLE tenants ADD COLUMN webhook_secret_previous text;
ALTER TABLE tenants ADD COLUMN webhook_secret_previous_until timestamptz;

CREATE INDEX callbacks_tenant_status ON callbacks (tenant_id, status, id);
