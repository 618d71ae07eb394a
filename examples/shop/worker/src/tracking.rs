//! Pushes shipment tracking updates to the storefront and waits for the carrier's label.

use std::time::{Duration, SystemTime};

use reqwest::Client;

pub struct TrackingUpdate {
    pub order_id: String,
    pub status: String,
}

/// The storefront is told about the new status; when it is down the update is lost and nobody knows.
pub async fn push_update(client: &Client, update: &TrackingUpdate) {
    let url = format!("http://storefront/orders/{}/tracking", update.order_id);
    let _ = client
        .post(&url)
        .timeout(Duration::from_secs(5))
        .body(update.status.clone())
        .send()
        .await;
}

/// Clean: the failure goes back to the caller, which retries the event.
pub async fn push_update_checked(client: &Client, update: &TrackingUpdate) -> Result<(), reqwest::Error> {
    let url = format!("http://storefront/orders/{}/tracking", update.order_id);
    client
        .post(&url)
        .timeout(Duration::from_secs(5))
        .body(update.status.clone())
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// Polls for the carrier's label; the wall clock decides when to give up.
pub fn wait_for_label(label_ready: impl Fn() -> bool, timeout: Duration) -> bool {
    let started = SystemTime::now();
    while !label_ready() {
        if started.elapsed().unwrap() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    true
}
