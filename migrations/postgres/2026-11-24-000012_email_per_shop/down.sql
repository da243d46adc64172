-- Fails if an e-mail has memberships in several shops.
DROP INDEX users_email;
CREATE INDEX users_shop_id ON users(shop_id);
ALTER TABLE users DROP CONSTRAINT users_shop_id_email_key;
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
