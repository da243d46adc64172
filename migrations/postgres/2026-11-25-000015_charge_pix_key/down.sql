ALTER TABLE charges DROP COLUMN pix_key;
