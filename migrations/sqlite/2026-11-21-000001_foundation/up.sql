CREATE TABLE instance_settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE shops (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    city TEXT NOT NULL,
    pix_key TEXT NOT NULL,
    pix_key_type TEXT NOT NULL,
    notify_email TEXT,
    notify_whatsapp TEXT,
    language TEXT NOT NULL DEFAULT 'pt-BR',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'staff', 'accountant')),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX users_shop_id ON users(shop_id);

CREATE TABLE products (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    retailer_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    sale_price_cents BIGINT CHECK (sale_price_cents >= 0),
    stock BIGINT CHECK (stock >= 0),
    availability TEXT NOT NULL,
    condition TEXT NOT NULL DEFAULT 'new',
    image_url TEXT,
    link TEXT,
    brand TEXT,
    category TEXT,
    item_group_id TEXT,
    size TEXT,
    color TEXT,
    search_text TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (shop_id, retailer_id)
);
CREATE INDEX products_shop_id_id ON products(shop_id, id);
