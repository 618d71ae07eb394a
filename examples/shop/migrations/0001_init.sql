-- Initial schema: everything here is new, so nothing old can break.
CREATE TABLE orders (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    total_cents BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX orders_customer_idx ON orders (customer_id);

CREATE TABLE stock (
    sku       TEXT PRIMARY KEY,
    available INTEGER NOT NULL,
    reserved  INTEGER NOT NULL DEFAULT 0
);
