-- Fails if an e-mail has memberships in several shops.
CREATE TABLE users_global_email (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'staff', 'accountant')),
    created_at TIMESTAMP NOT NULL,
    token_version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO users_global_email (id, shop_id, email, password_hash, role, created_at, token_version)
    SELECT id, shop_id, email, password_hash, role, created_at, token_version FROM users;
DROP TABLE users;
ALTER TABLE users_global_email RENAME TO users;
CREATE INDEX users_shop_id ON users(shop_id);
