//! The worker's status endpoints, served next to the consumer.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::Path;
use axum::routing::{get, post};
use axum::Router;
use once_cell::sync::Lazy;

/// Tracking numbers of the shipments booked by this process, by order id.
static TRACKING: Lazy<Mutex<HashMap<String, String>>> = Lazy::new(|| Mutex::new(HashMap::new()));

/// The carrier calls back with the tracking number; it reaches whichever replica the load balancer picks, so
/// `GET /shipments/{id}` answers 404 on the others.
async fn carrier_callback(Path(order_id): Path<String>, tracking: String) -> &'static str {
    TRACKING.lock().expect("tracking map poisoned").insert(order_id, tracking);
    "ok"
}

/// Clean counterpart: reads only.
async fn shipment(Path(order_id): Path<String>) -> String {
    let tracking = TRACKING.lock().expect("tracking map poisoned");
    tracking.get(&order_id).cloned().unwrap_or_default()
}

pub fn router() -> Router {
    Router::new()
        .route("/carrier/callback/{order_id}", post(carrier_callback))
        .route("/shipments/{order_id}", get(shipment))
        .route("/healthz", get(|| async { "ok" }))
}
