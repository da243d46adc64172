-- The Pix key a charge was issued for: a payment is checked against it, not
-- against the shop's key of today (a shop may change its key while charges
-- issued for the old one are still being paid). Charges from before this
-- column take the shop's key of the moment, the best record there is.
ALTER TABLE charges ADD COLUMN pix_key TEXT;
UPDATE charges SET pix_key = (SELECT shops.pix_key FROM shops WHERE shops.id = charges.shop_id);
