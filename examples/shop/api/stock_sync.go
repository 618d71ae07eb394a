package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"
)

// The warehouse service answers stock levels one SKU at a time.
var warehouse = &http.Client{Timeout: 5 * time.Second}

// StockLevels reads stock levels from the shop's database.
type StockLevels struct{ db *sql.DB }

type StockLevel struct {
	SKU       string `json:"sku"`
	Available int    `json:"available"`
}

// SyncStock refreshes the stock of every SKU in the request. A catalog import sends 20 000 SKUs: one
// goroutine and one warehouse connection each, all at once.
func SyncStock(ctx context.Context, skus []string) {
	for _, sku := range skus {
		go func(sku string) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://warehouse/stock/"+sku+"/refresh", nil)
			if resp, err := warehouse.Do(req); err == nil {
				resp.Body.Close()
			}
		}(sku)
	}
}

// SyncStockBounded is the same refresh with at most 16 requests in flight.
func SyncStockBounded(ctx context.Context, skus []string) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, sku := range skus {
		g.Go(func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://warehouse/stock/"+sku+"/refresh", nil)
			if err != nil {
				return err
			}
			resp, err := warehouse.Do(req)
			if err != nil {
				return err
			}
			return resp.Body.Close()
		})
	}
	return g.Wait()
}

// Levels loads the stock of a cart's SKUs with one query per SKU.
func (s *StockLevels) Levels(ctx context.Context, skus []string) ([]StockLevel, error) {
	levels := make([]StockLevel, 0, len(skus))
	for _, sku := range skus {
		var l StockLevel
		err := s.db.QueryRowContext(ctx, "SELECT sku, available FROM stock WHERE sku = $1", sku).Scan(&l.SKU, &l.Available)
		if err != nil {
			return nil, err
		}
		levels = append(levels, l)
	}
	return levels, nil
}

// LevelsBatched answers the same question in one round trip.
func (s *StockLevels) LevelsBatched(ctx context.Context, skus []string) ([]StockLevel, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT sku, available FROM stock WHERE sku = ANY($1)", skus)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var levels []StockLevel
	for rows.Next() {
		var l StockLevel
		if err := rows.Scan(&l.SKU, &l.Available); err != nil {
			return nil, err
		}
		levels = append(levels, l)
	}
	return levels, rows.Err()
}

// ImportStock accepts a stock file from a supplier: the whole body is read into memory, however big.
func ImportStock(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var levels []StockLevel
	if err := json.Unmarshal(data, &levels); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// ImportStockLimited caps the body at 8 MiB and answers 413 beyond it.
func ImportStockLimited(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
	data, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	var levels []StockLevel
	if err := json.Unmarshal(data, &levels); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
