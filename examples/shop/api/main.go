package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	store := newStore(os.Getenv("DATABASE_URL"))
	orders := &OrderHandler{store: store, payments: newPaymentsClient(), locks: newLocker()}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", orders.PlaceOrder)
	mux.HandleFunc("GET /orders/{id}", orders.GetOrder)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })

	go serveAdmin()

	// A zero-value server: a client that sends its headers one byte a minute holds a connection forever.
	// Nothing handles SIGTERM either: every deploy cuts off the orders being placed at that moment.
	log.Fatal(http.ListenAndServe(":8080", mux))
}
