-- 012_callback_private.sql - whether a tenant's delivery callbacks may go to loopback,
-- private and link-local addresses (senderd refuses them otherwise; the operator sets
-- this, or [senderd] callback_private = allow for the whole install).

ALTER TABLE tenants ADD COLUMN callback_allow_private boolean NOT NULL DEFAULT false;
