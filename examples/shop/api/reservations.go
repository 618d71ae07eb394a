package main

import (
	"encoding/json"
	"net/http"
	"sync"
)

// Reservations made by this process, by order id. The API runs three replicas behind the load balancer.
var (
	reservationsMu sync.Mutex
	reservations   = map[string]int{}
)

// Warehouse codes never change at run time: a read-only table is fine in every replica.
var warehouses = map[string]string{"ams": "Amsterdam", "fra": "Frankfurt"}

// ReserveStock holds stock for an order. The lock makes it safe within one process, but a retry routed to another
// replica does not see the reservation and holds the stock a second time.
func ReserveStock(w http.ResponseWriter, r *http.Request) {
	orderID := r.PathValue("id")
	reservationsMu.Lock()
	reservations[orderID] += 1
	reservationsMu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// StockReport is the clean counterpart: it builds its answer per request and only reads the package table.
func StockReport(w http.ResponseWriter, r *http.Request) {
	report := map[string]string{}
	for code, name := range warehouses {
		report[code] = name
	}
	_ = json.NewEncoder(w).Encode(report)
}
