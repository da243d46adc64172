-- The shop's WhatsApp connection (the access token is a secret: never returned nor logged).
ALTER TABLE shops ADD COLUMN wa_phone_number_id TEXT;
ALTER TABLE shops ADD COLUMN wa_access_token TEXT;
ALTER TABLE shops ADD COLUMN wa_catalog_id TEXT;
-- The approved template sent when the 24-hour window is closed.
ALTER TABLE shops ADD COLUMN wa_template_name TEXT;
ALTER TABLE shops ADD COLUMN wa_template_language TEXT;
CREATE UNIQUE INDEX shops_wa_phone_number_id ON shops(wa_phone_number_id);

CREATE TABLE customers (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    wa_id TEXT NOT NULL,
    profile_name TEXT,
    last_inbound_at TIMESTAMP,
    window_closed BOOLEAN NOT NULL DEFAULT FALSE,
    opted_out BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, wa_id)
);

CREATE TABLE chat_messages (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    -- Meta's id: set on arrival for inbound, after sending for outbound. Unique,
    -- so a re-delivered webhook is recognised by the database, not a memory set.
    wa_message_id TEXT UNIQUE,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX chat_messages_customer ON chat_messages(shop_id, customer_id, created_at);

CREATE TABLE cart_items (
    shop_id TEXT NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    product_id TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (customer_id, product_id)
);

-- Messages to deliver after the transaction that caused them commits.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    chat_message_id TEXT REFERENCES chat_messages(id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'waiting')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
