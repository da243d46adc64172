-- A return the shop did not ask for (MED_FRAUDE, MED_OPERACIONAL...) came
-- back on one of the order's Pix.
ALTER TABLE orders ADD COLUMN returned_by_psp BOOLEAN NOT NULL DEFAULT FALSE;
