import { Pool } from "pg";
import type { Request, Response } from "express";

const pool = new Pool();

// GET /orders?page=N — page N of a customer's order history. Page 500 makes Postgres read and discard 10 000
// rows, and an order placed while the customer pages shifts every later page by one.
export async function listOrders(req: Request, res: Response): Promise<void> {
  const page = Math.max(1, Number(req.query.page ?? 1));
  const { rows } = await pool.query(
    `SELECT id, status, total_cents FROM orders WHERE customer_id = $1 ORDER BY id DESC LIMIT 20 OFFSET ${(page - 1) * 20}`,
    [req.params.customer],
  );
  res.json(rows);
}

// GET /orders/feed?before=ID — the same history by key: an index seek per page, stable under inserts.
export async function orderFeed(req: Request, res: Response): Promise<void> {
  const before = String(req.query.before ?? "9223372036854775807");
  const { rows } = await pool.query(
    "SELECT id, status, total_cents FROM orders WHERE customer_id = $1 AND id < $2 ORDER BY id DESC LIMIT 20",
    [req.params.customer, before],
  );
  res.json({ rows, next: rows.length ? rows[rows.length - 1].id : null });
}
