//! A minimal LSP client over in-memory pipes, for tests that run the server with their own rules.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

pub struct Client {
    pub writer: tokio::io::DuplexStream,
    pub reader: BufReader<tokio::io::DuplexStream>,
    pub next_id: i64,
    /// Messages read but not yet awaited: notifications can arrive in any order.
    pub backlog: Vec<Value>,
}

impl Client {
    /// Serves `registry` in process, over in-memory pipes, and completes the `initialize` handshake. The
    /// handle ends when the server does.
    pub async fn start(
        registry: &'static [dsr_semantic::RegisteredRule],
    ) -> (Client, tokio::task::JoinHandle<i32>) {
        let (client_out, server_in) = tokio::io::duplex(1 << 16);
        let (server_out, client_in) = tokio::io::duplex(1 << 16);
        let options = dsr_lsp::LspOptions {
            config: None,
            registry: Some(registry),
        };
        let server = tokio::spawn(dsr_lsp::serve(server_in, server_out, options));
        let mut client = Client {
            writer: client_out,
            reader: BufReader::new(client_in),
            next_id: 0,
            backlog: Vec::new(),
        };
        let id = client
            .request(
                "initialize",
                json!({"processId": null, "capabilities": {}, "rootUri": null}),
            )
            .await;
        client.wait(|m| m["id"] == id).await;
        client.notify("initialized", json!({})).await;
        (client, server)
    }

    pub async fn send(&mut self, message: Value) {
        let body = message.to_string();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.writer.write_all(frame.as_bytes()).await.unwrap();
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}))
            .await;
    }

    pub async fn request(&mut self, method: &str, params: Value) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        id
    }

    pub async fn read(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length: ") {
                length = value.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await.unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    /// The first message that satisfies `predicate` (others are kept; server requests answered with null).
    pub async fn wait(&mut self, predicate: impl Fn(&Value) -> bool) -> Value {
        if let Some(at) = self.backlog.iter().position(&predicate) {
            return self.backlog.remove(at);
        }
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let message = self.read().await;
                if message.get("method").is_some() && message.get("id").is_some() {
                    let id = message["id"].clone();
                    self.send(json!({"jsonrpc": "2.0", "id": id, "result": null}))
                        .await;
                }
                if predicate(&message) {
                    return message;
                }
                self.backlog.push(message);
            }
        })
        .await
        .expect("the awaited message arrives")
    }
}
