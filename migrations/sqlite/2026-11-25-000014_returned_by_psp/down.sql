ALTER TABLE orders DROP COLUMN returned_by_psp;
