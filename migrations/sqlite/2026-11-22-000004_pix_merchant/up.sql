-- How the shop appears in its Pix codes: BR Codes allow 25 characters of name
-- and 15 of city (ASCII), so a long name or city needs its own short form.
ALTER TABLE shops ADD COLUMN pix_merchant_name TEXT;
ALTER TABLE shops ADD COLUMN pix_merchant_city TEXT;
