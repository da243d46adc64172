-- A deleted product is archived, never erased: past orders point at it.
ALTER TABLE products ADD COLUMN archived_at TIMESTAMP;
