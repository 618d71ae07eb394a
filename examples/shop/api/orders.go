package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
)

type OrderHandler struct {
	store    *Store
	payments *PaymentsClient
	locks    *redis.Client
}

type PaymentsClient struct {
	baseURL string
	http    *http.Client
}

func newPaymentsClient() *PaymentsClient {
	// The payment provider sometimes stops answering mid-response; with no timeout every
	// request goroutine that reaches this client waits with it.
	return &PaymentsClient{baseURL: "https://payments.internal", http: &http.Client{}}
}

func newLocker() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: "redis:6379"})
}

func (h *OrderHandler) PlaceOrder(w http.ResponseWriter, r *http.Request) {
	var req PlaceOrderRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx := r.Context()

	// Per-order lock so that a double-clicked "Buy" does not charge twice. No TTL: if this
	// process dies between SetNX and Del, the order can never be placed again.
	key := "lock:order:" + req.OrderID
	ok, err := h.locks.SetNX(ctx, key, "api", 0).Result()
	if err != nil || !ok {
		http.Error(w, "order in progress", http.StatusConflict)
		return
	}
	defer h.locks.Del(ctx, key)

	// The reservation must finish even if this request is cancelled — but dropping the
	// request's context also drops its deadline and trace.
	if err := h.store.ReserveStock(context.Background(), req.OrderID, req.Items); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	if err := h.payments.Charge(ctx, req.OrderID, req.Amount); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (h *OrderHandler) GetOrder(w http.ResponseWriter, r *http.Request) {
	// Clean: the request's context flows into the store.
	order, err := h.store.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	_ = json.NewEncoder(w).Encode(order)
}

func (p *PaymentsClient) Charge(ctx context.Context, orderID string, amount int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.baseURL+"/charges", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Idempotency-Key", orderID)
	resp, err := p.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("charge %s: %s", orderID, resp.Status)
	}
	return nil
}

// Notify the warehouse; uses the package-level helpers and so http.DefaultClient.
func notifyWarehouse(orderID string) error {
	resp, err := http.Post("https://warehouse.internal/notify?order="+orderID, "application/json", nil)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Clean: a client with a timeout, and a lock with a TTL.
func fetchRates(ctx context.Context, rdb *redis.Client) error {
	client := &http.Client{Timeout: 3 * time.Second}
	if ok, err := rdb.SetNX(ctx, "lock:rates", "api", 30*time.Second).Result(); err != nil || !ok {
		return err
	}
	resp, err := client.Get("https://rates.internal/today")
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
