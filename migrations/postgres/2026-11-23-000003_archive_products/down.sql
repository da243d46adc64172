ALTER TABLE products DROP COLUMN archived_at;
