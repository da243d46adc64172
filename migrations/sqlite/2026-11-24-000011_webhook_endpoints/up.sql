-- A shop's own systems that hear of its events by signed webhooks
-- (Standard Webhooks). Deliveries are jobs (`webhook.deliver`), one per
-- event and endpoint.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id),
    url TEXT NOT NULL,
    -- The event types subscribed to, space-separated.
    events TEXT NOT NULL,
    -- whsec_… sealed with the service's key, bound to the endpoint.
    secret TEXT NOT NULL,
    -- The secret before the last rotation: it signs beside `secret` until
    -- previous_secret_expires_at.
    previous_secret TEXT,
    previous_secret_expires_at TIMESTAMP,
    status TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
    disabled_reason TEXT,
    disabled_at TIMESTAMP,
    -- The first failure since the last success: failing for 5 days disables.
    failing_since TIMESTAMP,
    -- The receiver asked to slow down (429, 502, 504): no attempt before this.
    throttled_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_by_shop ON webhook_endpoints(shop_id, id);
