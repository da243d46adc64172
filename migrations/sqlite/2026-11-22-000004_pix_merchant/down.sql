ALTER TABLE shops DROP COLUMN pix_merchant_city;
ALTER TABLE shops DROP COLUMN pix_merchant_name;
