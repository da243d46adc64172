-- The money path: checkout settings, orders and their lines, Pix charges,
-- payments received, refunds, the PSP each shop uses, idempotency keys for
-- POST /v1/orders, the raw PSP webhook deliveries, and domain events.

-- Checkout and report settings of a shop; order numbers are taken from
-- next_order_number by a conditional update in the checkout's transaction.
ALTER TABLE shops ADD COLUMN shipping_fee_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE shops ADD COLUMN free_shipping_above_cents BIGINT;
ALTER TABLE shops ADD COLUMN charge_ttl_seconds INTEGER;
ALTER TABLE shops ADD COLUMN timezone TEXT NOT NULL DEFAULT 'America/Sao_Paulo';
ALTER TABLE shops ADD COLUMN summary_time TEXT NOT NULL DEFAULT '08:00';
ALTER TABLE shops ADD COLUMN next_order_number BIGINT NOT NULL DEFAULT 1001;

-- The shop's PSP; no row means the sandbox. Secrets are sealed (crypto).
CREATE TABLE psp_settings (
    shop_id TEXT PRIMARY KEY NOT NULL REFERENCES shops(id),
    kind TEXT NOT NULL CHECK (kind IN ('sandbox', 'api_pix')),
    api_base_url TEXT,
    token_url TEXT,
    client_id TEXT,
    client_secret TEXT,
    certificate_pem TEXT,
    private_key_pem TEXT,
    pkcs12 TEXT,
    pkcs12_password TEXT,
    webhook_registered BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE orders (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id),
    number BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending_payment', 'paid', 'fulfilled', 'expired', 'cancelled', 'refunded', 'partially_refunded')),
    source TEXT NOT NULL CHECK (source IN ('chat', 'api')),
    customer_id TEXT REFERENCES customers(id),
    customer_name TEXT,
    customer_whatsapp TEXT,
    note TEXT,
    subtotal_cents BIGINT NOT NULL,
    shipping_cents BIGINT NOT NULL,
    discount_cents BIGINT NOT NULL,
    total_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL DEFAULT 0,
    refunded_cents BIGINT NOT NULL DEFAULT 0,
    amount_mismatch BOOLEAN NOT NULL DEFAULT FALSE,
    late_payment BOOLEAN NOT NULL DEFAULT FALSE,
    needs_refund BOOLEAN NOT NULL DEFAULT FALSE,
    -- Unguessable (>= 128 bits): GET /pay/{token} shows this order and nothing else.
    pay_token TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    paid_at TIMESTAMP,
    closed_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, number)
);
CREATE INDEX orders_by_shop ON orders(shop_id, created_at);
CREATE INDEX orders_by_customer ON orders(customer_id, status);

CREATE TABLE order_lines (
    order_id TEXT NOT NULL REFERENCES orders(id),
    line_no INTEGER NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    retailer_id TEXT NOT NULL,
    name TEXT NOT NULL,
    unit_price_cents BIGINT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    amount_cents BIGINT NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

-- One Pix charge per order; txid is ours, so a retried create is the same charge.
CREATE TABLE charges (
    txid TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id),
    order_id TEXT NOT NULL UNIQUE REFERENCES orders(id),
    psp TEXT NOT NULL CHECK (psp IN ('sandbox', 'api_pix')),
    amount_cents BIGINT NOT NULL,
    -- pending: not yet created at the PSP; active: payable; paid; cancelled;
    -- expired; failed: the PSP refused it.
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'paid', 'cancelled', 'expired', 'failed')),
    pix_copia_e_cola TEXT,
    location TEXT,
    error TEXT,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX charges_open ON charges(status, expires_at);

-- Every Pix received, one per endToEndId, whether or not it fits an order.
CREATE TABLE payments (
    end_to_end_id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id),
    txid TEXT,
    order_id TEXT REFERENCES orders(id),
    amount_cents BIGINT NOT NULL,
    paid_at TIMESTAMP NOT NULL,
    payer_name TEXT,
    payer_document TEXT,
    payer_info TEXT,
    -- matched: paid its order; amount_mismatch; late (after expiry or
    -- cancellation); duplicate (the order was paid already); orphan: no order.
    outcome TEXT NOT NULL CHECK (outcome IN ('matched', 'amount_mismatch', 'late', 'duplicate', 'orphan')),
    source TEXT NOT NULL CHECK (source IN ('webhook', 'poll', 'sweep', 'sandbox')),
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX payments_by_shop ON payments(shop_id, paid_at);
CREATE INDEX payments_by_order ON payments(order_id);

-- Devoluções: ours (initiated by the shop) and the PSP's (MED returns).
CREATE TABLE refunds (
    id TEXT NOT NULL,
    end_to_end_id TEXT NOT NULL REFERENCES payments(end_to_end_id),
    shop_id TEXT NOT NULL REFERENCES shops(id),
    order_id TEXT REFERENCES orders(id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    reason TEXT,
    nature TEXT,
    initiated_by TEXT NOT NULL CHECK (initiated_by IN ('shop', 'psp')),
    status TEXT NOT NULL CHECK (status IN ('processing', 'settled', 'failed')),
    rtr_id TEXT,
    error TEXT,
    requested_at TIMESTAMP NOT NULL,
    settled_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (end_to_end_id, id)
);
CREATE INDEX refunds_by_shop ON refunds(shop_id, requested_at);
CREATE INDEX refunds_by_order ON refunds(order_id);

-- POST /v1/orders with Idempotency-Key: kept 24 h per shop.
CREATE TABLE idempotency_keys (
    shop_id TEXT NOT NULL REFERENCES shops(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id TEXT REFERENCES orders(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (shop_id, key)
);

-- What the PSP posted, kept as received (the body is a hint; it is confirmed).
CREATE TABLE pix_webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id),
    body TEXT NOT NULL,
    entries INTEGER NOT NULL,
    received_at TIMESTAMP NOT NULL
);

-- Domain events, written once in the transaction of the change that caused
-- them; notifications fan out from here.
CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id),
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX events_by_shop ON events(shop_id, created_at);
