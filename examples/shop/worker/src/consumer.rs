//! Reads order events from Kafka and books each shipment with the carrier.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::Message;
use tokio_util::sync::CancellationToken;

/// Shipments booked per carrier, shown on the worker's status page.
#[derive(Default)]
pub struct Stats {
    booked: Mutex<HashMap<String, u64>>,
}

/// Commits each offset as soon as the message arrives: if the carrier call fails or the worker is killed
/// mid-booking, the order is already marked consumed and is never shipped.
pub async fn run_shipments(
    consumer: StreamConsumer,
    carrier: reqwest::Client,
    stats: Arc<Stats>,
) -> anyhow::Result<()> {
    loop {
        let message = consumer.recv().await?;
        consumer.commit_message(&message, CommitMode::Async)?;
        let order_id = String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned();
        book(&carrier, &order_id).await?;
        stats.record("carrier", &carrier, &order_id).await?;
    }
}

/// Clean: the offset is committed only after the booking succeeded; a failure stops the loop and the message
/// is read again after the restart.
pub async fn run_returns(consumer: StreamConsumer, carrier: reqwest::Client) -> anyhow::Result<()> {
    loop {
        let message = consumer.recv().await?;
        let order_id = String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned();
        book(&carrier, &order_id).await?;
        consumer.commit_message(&message, CommitMode::Async)?;
    }
}

/// Polls the carrier for tracking updates. The loop receives the shutdown token but never waits on it:
/// on deploy the worker is killed mid-poll instead of finishing the current batch.
pub async fn poll_tracking(
    shutdown: CancellationToken,
    mut ticks: tokio::sync::mpsc::Receiver<String>,
    carrier: reqwest::Client,
) {
    loop {
        tokio::select! {
            Some(order_id) = ticks.recv() => {
                let _ = book(&carrier, &order_id).await;
            }
        }
    }
}

/// Clean: the same loop, ended by the shutdown token.
pub async fn poll_returns(
    shutdown: CancellationToken,
    mut ticks: tokio::sync::mpsc::Receiver<String>,
    carrier: reqwest::Client,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(order_id) = ticks.recv() => {
                let _ = book(&carrier, &order_id).await;
            }
        }
    }
}

impl Stats {
    /// Holds the std mutex guard across the carrier's acknowledgement: a slow carrier blocks every task that
    /// touches the stats, and the executor thread with them.
    async fn record(&self, carrier_name: &str, carrier: &reqwest::Client, order_id: &str) -> reqwest::Result<()> {
        let mut booked = self.booked.lock().unwrap();
        *booked.entry(carrier_name.to_string()).or_default() += 1;
        carrier
            .post("https://carrier.example/acks")
            .header("Idempotency-Key", order_id)
            .send()
            .await?;
        Ok(())
    }

    /// Clean: the guard is dropped before the `.await`.
    async fn record_return(&self, carrier: &reqwest::Client, order_id: &str) -> reqwest::Result<()> {
        let mut booked = self.booked.lock().unwrap();
        *booked.entry("returns".to_string()).or_default() += 1;
        drop(booked);
        carrier
            .post("https://carrier.example/returns")
            .header("Idempotency-Key", order_id)
            .send()
            .await?;
        Ok(())
    }
}

async fn book(carrier: &reqwest::Client, order_id: &str) -> reqwest::Result<()> {
    carrier
        .post("https://carrier.example/shipments")
        .header("Idempotency-Key", order_id)
        .timeout(Duration::from_secs(10))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}
