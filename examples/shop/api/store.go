package main

import (
	"context"
	"database/sql"
)

type Store struct{ db *sql.DB }

func newStore(url string) *Store {
	db, _ := sql.Open("postgres", url)
	return &Store{db: db}
}

func (s *Store) ReserveStock(ctx context.Context, orderID string, items []Item) error {
	for _, it := range items {
		if _, err := s.db.ExecContext(ctx,
			"UPDATE stock SET reserved = reserved + $1 WHERE sku = $2 AND available - reserved >= $1",
			it.Qty, it.SKU); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) Get(ctx context.Context, id string) (*Order, error) {
	row := s.db.QueryRowContext(ctx, "SELECT id, status, total_cents FROM orders WHERE id = $1", id)
	var o Order
	return &o, row.Scan(&o.ID, &o.Status, &o.TotalCents)
}
