-- An e-mail is unique per shop, not globally: one person (an accountant, an
-- owner of two shops) has a membership row in each shop they belong to.
ALTER TABLE users DROP CONSTRAINT users_email_key;
ALTER TABLE users ADD CONSTRAINT users_shop_id_email_key UNIQUE (shop_id, email);
-- The unique key serves lookups by shop; a login finds every membership of its e-mail.
DROP INDEX users_shop_id;
CREATE INDEX users_email ON users(email);
