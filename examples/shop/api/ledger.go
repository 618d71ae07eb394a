package main

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/segmentio/kafka-go"
)

// Ledger records money movements and tells fulfilment about them.
type Ledger struct {
	db     *sql.DB
	events *kafka.Writer
}

// RecordPayment commits the payment row and then publishes the event: a crash or a broker outage between the
// two leaves a paid order that fulfilment never hears about.
func (l *Ledger) RecordPayment(ctx context.Context, orderID string, amount int64) error {
	if _, err := l.db.ExecContext(ctx,
		"INSERT INTO payments (order_id, amount_cents) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING",
		orderID, amount); err != nil {
		return err
	}
	payload, err := json.Marshal(map[string]any{"order": orderID, "amount": amount})
	if err != nil {
		return err
	}
	return l.events.WriteMessages(ctx, kafka.Message{Key: []byte(orderID), Value: payload})
}

// Clean: the event goes into the outbox table in the refund's own transaction; the relay publishes it.
func (l *Ledger) RecordRefund(ctx context.Context, orderID string, amount int64) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx,
		"UPDATE payments SET refunded_cents = $2 WHERE order_id = $1", orderID, amount); err != nil {
		return err
	}
	payload, err := json.Marshal(map[string]any{"order": orderID, "refunded": amount})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx,
		"INSERT INTO outbox (topic, msg_key, payload) VALUES ('payments.refunded', $1, $2)",
		orderID, payload); err != nil {
		return err
	}
	return tx.Commit()
}

// SettleBatch returns on a failed update without rolling back: the transaction keeps its connection and its
// row locks until the pool gives up on it, and the next settlement run queues behind them.
func (l *Ledger) SettleBatch(ctx context.Context, orderIDs []string) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, id := range orderIDs {
		if _, err := tx.ExecContext(ctx, "UPDATE payments SET settled = true WHERE order_id = $1", id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Clean: a deferred rollback covers every early return (after Commit it does nothing).
func (l *Ledger) VoidBatch(ctx context.Context, orderIDs []string) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, id := range orderIDs {
		if _, err := tx.ExecContext(ctx, "UPDATE payments SET voided = true WHERE order_id = $1", id); err != nil {
			return err
		}
	}
	return tx.Commit()
}
