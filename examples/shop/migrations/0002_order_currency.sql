-- Adds the currency. The running API inserts orders without it: NOT NULL with no default
-- makes every one of those inserts fail until the new version is fully rolled out.
ALTER TABLE orders ADD COLUMN currency TEXT NOT NULL;

-- Builds the index with a lock that blocks writes to orders for the whole build.
CREATE INDEX orders_status_idx ON orders (status);

-- Clean: a nullable column, and an index built without blocking writes.
ALTER TABLE orders ADD COLUMN coupon_code TEXT;
CREATE INDEX CONCURRENTLY orders_created_idx ON orders (created_at);
