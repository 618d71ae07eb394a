//! Restocking: asks every supplier of a low-stock list for a quote and downloads their price sheets.

use std::time::Duration;

use futures::stream::{self, StreamExt};
use reqwest::Client;

pub struct Supplier {
    pub id: String,
    pub quote_url: String,
}

/// One task per supplier, all at once: the list comes from the database and grows with the catalog.
pub async fn request_quotes(client: &Client, suppliers: Vec<Supplier>) {
    for supplier in suppliers {
        let client = client.clone();
        tokio::spawn(async move {
            let _ = client
                .post(&supplier.quote_url)
                .timeout(Duration::from_secs(10))
                .send()
                .await;
        });
    }
}

/// The same requests, eight at a time.
pub async fn request_quotes_bounded(client: &Client, suppliers: Vec<Supplier>) {
    stream::iter(suppliers)
        .map(|supplier| {
            client
                .post(supplier.quote_url)
                .timeout(Duration::from_secs(10))
                .send()
        })
        .buffer_unordered(8)
        .for_each(|_| async {})
        .await;
}

/// A supplier's price sheet, buffered whole: a misconfigured supplier serving a multi-gigabyte file takes the
/// worker down.
pub async fn price_sheet(client: &Client, url: &str) -> Result<Vec<u8>, reqwest::Error> {
    let resp = client.get(url).timeout(Duration::from_secs(30)).send().await?;
    Ok(resp.bytes().await?.to_vec())
}

/// The same download, refused beyond 16 MiB.
pub async fn price_sheet_limited(client: &Client, url: &str) -> Result<Vec<u8>, String> {
    const MAX: usize = 16 << 20;
    let mut resp = client
        .get(url)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if resp.content_length().is_some_and(|n| n as usize > MAX) {
        return Err("price sheet too large".into());
    }
    let mut sheet = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        if sheet.len() + chunk.len() > MAX {
            return Err("price sheet too large".into());
        }
        sheet.extend_from_slice(&chunk);
    }
    Ok(sheet)
}
