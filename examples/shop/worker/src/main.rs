//! Consumes order events and books shipments with the carrier.

mod status;

use std::time::Duration;

use redis::AsyncCommands;
use tokio::sync::mpsc;

struct OrderEvent {
    order_id: String,
}

#[tokio::main]
async fn main() {
    // Events are read from the broker faster than the carrier can book them; the unbounded
    // channel absorbs the difference in memory.
    let (tx, mut rx) = mpsc::unbounded_channel::<OrderEvent>();
    tokio::spawn(consume(tx));

    // The carrier's API stalls during their deploys; a default reqwest client waits forever.
    let carrier = reqwest::Client::new();
    let redis = redis::Client::open("redis://redis:6379").expect("static URL parses");
    let mut conn = redis.get_multiplexed_async_connection().await.expect("redis reachable at start");

    while let Some(event) = rx.recv().await {
        // Dedup lock without expiry: a crash here blocks this order forever.
        let first: bool = conn.set_nx(format!("ship:{}", event.order_id), 1).await.unwrap_or(false);
        if first {
            let _ = book_shipment(&carrier, &event).await;
        }
    }
}

async fn consume(tx: mpsc::UnboundedSender<OrderEvent>) {
    let _ = tx;
}

async fn book_shipment(carrier: &reqwest::Client, event: &OrderEvent) -> Result<(), reqwest::Error> {
    carrier
        .post("https://carrier.example/shipments")
        .header("Idempotency-Key", &event.order_id)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// Clean: a bounded channel and a client with a timeout.
fn tracking_pipeline() -> (mpsc::Sender<String>, reqwest::Client) {
    let (tx, _rx) = mpsc::channel::<String>(1024);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("static client config");
    (tx, client)
}

// Kafka consumption (order events in, shipments out).
mod consumer;
mod restock;

// Tracking updates to the storefront and label polling.
mod tracking;
