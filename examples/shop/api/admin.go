package main

import (
	"net/http"
	"time"
)

// The admin server sets its timeouts: this is the clean counterpart of main's server.
func serveAdmin() {
	srv := &http.Server{
		Addr:              ":9090",
		Handler:           http.DefaultServeMux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
	}
	_ = srv.ListenAndServe()
}

// The metrics exporter bounds the whole read, which bounds the headers too.
func metricsServer() *http.Server {
	return &http.Server{Addr: ":9100", ReadTimeout: 10 * time.Second}
}
