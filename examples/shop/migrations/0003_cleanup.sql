-- The old API version still selects total_cents while this runs.
ALTER TABLE orders DROP COLUMN total_cents;

-- Clean: adding a column with a default is safe for old readers and writers.
ALTER TABLE stock ADD COLUMN warehouse TEXT NOT NULL DEFAULT 'main';
