-- An e-mail is unique per shop, not globally: one person (an accountant, an
-- owner of two shops) has a membership row in each shop they belong to.
-- SQLite cannot drop the column's UNIQUE, so the table is rebuilt; no table
-- references users, and rows keep their ids (tokens stay valid).
CREATE TABLE users_per_shop (
    id TEXT PRIMARY KEY NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'staff', 'accountant')),
    created_at TIMESTAMP NOT NULL,
    token_version INTEGER NOT NULL DEFAULT 0,
    UNIQUE (shop_id, email)
);
INSERT INTO users_per_shop (id, shop_id, email, password_hash, role, created_at, token_version)
    SELECT id, shop_id, email, password_hash, role, created_at, token_version FROM users;
DROP TABLE users;
ALTER TABLE users_per_shop RENAME TO users;
-- A login finds every membership of its e-mail.
CREATE INDEX users_email ON users(email);
