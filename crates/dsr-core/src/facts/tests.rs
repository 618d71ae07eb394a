use dsr_syntax::{Document, Language};

use super::FileFacts;

fn with_facts(language: Language, source: &str, check: impl FnOnce(&FileFacts<'_>)) {
    let document = Document::new(language, source, 0).expect("grammar loads");
    let facts = FileFacts::compute(language, document.tree(), source);
    check(&facts);
}

fn call_paths(facts: &FileFacts<'_>) -> Vec<String> {
    facts
        .calls
        .iter()
        .map(|c| {
            c.path
                .clone()
                .unwrap_or_else(|| format!("?{}", c.callee_text))
        })
        .collect()
}

#[test]
fn go_imports_calls_and_literals_resolve_through_aliases() {
    let source = r#"package main
import (
    nethttp "net/http"
    "github.com/redis/go-redis/v9"
    "context"
)
func (s *Server) Handle(ctx context.Context, r *nethttp.Request) {
    c := &nethttp.Client{Timeout: 5}
    c.Do(req)
    nethttp.Get("x")
    redis.NewClient(nil)
    go func() { context.Background() }()
}
"#;
    with_facts(Language::Go, source, |facts| {
        assert_eq!(
            facts.import("redis").map(|i| i.path.as_str()),
            Some("github.com/redis/go-redis/v9")
        );
        assert_eq!(
            call_paths(facts),
            [
                "?c.Do",
                "net/http.Get",
                "github.com/redis/go-redis/v9.NewClient",
                "?func(){context.Background()}",
                "context.Background"
            ]
        );
        let handle = &facts.functions[0];
        assert_eq!(handle.name, "Server.Handle");
        assert_eq!(
            handle.params[0].type_path.as_deref(),
            Some("context.Context")
        );
        assert_eq!(
            handle.params[1].type_path.as_deref(),
            Some("net/http.Request")
        );
        let literal = &facts.literals[0];
        assert_eq!(literal.type_path.as_deref(), Some("net/http.Client"));
        assert!(literal.field("Timeout").is_some());
        // The closure's calls are attributed to the closure, whose component is the method around it.
        let background = facts
            .calls
            .iter()
            .find(|c| c.callee_text == "context.Background")
            .unwrap();
        assert_eq!(
            facts.functions[background.function.unwrap()].name,
            "<anonymous>"
        );
        assert_eq!(
            facts.component_at(background.node.start_byte()),
            "Server.Handle"
        );
        assert_eq!(facts.assignments[0].target, "c");
    });
}

#[test]
fn rust_use_trees_and_paths() {
    let source = r#"
use reqwest as rq;
use std::sync::{mpsc::{self, channel}, Arc};
struct Worker;
impl Worker {
    async fn run(&self, client: &rq::Client) {
        let c = rq::Client::builder().timeout(d).build();
        let (tx, rx) = channel();
        mpsc::sync_channel(1);
        tokio::sync::mpsc::unbounded_channel::<u8>();
        client.get("x").send().await;
        tokio::select! { _ = a => {} }
    }
}
"#;
    with_facts(Language::Rust, source, |facts| {
        assert_eq!(
            facts.import("channel").map(|i| i.path.as_str()),
            Some("std::sync::mpsc::channel")
        );
        assert_eq!(
            facts.import("mpsc").map(|i| i.path.as_str()),
            Some("std::sync::mpsc")
        );
        let paths = call_paths(facts);
        assert!(
            paths.contains(&"reqwest::Client::builder".to_string()),
            "{paths:?}"
        );
        assert!(
            paths.contains(&"std::sync::mpsc::channel".to_string()),
            "{paths:?}"
        );
        assert!(
            paths.contains(&"std::sync::mpsc::sync_channel".to_string()),
            "{paths:?}"
        );
        assert!(
            paths.contains(&"tokio::sync::mpsc::unbounded_channel".to_string()),
            "{paths:?}"
        );
        assert!(paths.contains(&"tokio::select!".to_string()), "{paths:?}");
        let send = facts
            .calls
            .iter()
            .find(|c| c.method.as_deref() == Some("send"))
            .unwrap();
        assert_eq!(send.path, None);
        let run = &facts.functions[0];
        assert_eq!(run.name, "Worker::run");
        assert!(run.is_async);
        assert_eq!(run.params[1].type_path.as_deref(), Some("reqwest::Client"));
    });
}

#[test]
fn typescript_imports_requires_and_objects() {
    let source = r#"
import axios from "axios";
import * as h from "node:https";
import { request as req } from "http";
const { Pool } = require("pg");
const amqp = require("amqplib");
class Gateway {
  async forward(signal: AbortSignal) {
    await fetch(url, { method: "POST", ...opts });
    axios.get(u, { timeout: 5 });
    h.request(o);
    req(o);
    new Pool();
  }
}
export const handler = async (req) => amqp.connect(x);
"#;
    with_facts(Language::TypeScript, source, |facts| {
        assert_eq!(
            call_paths(facts),
            [
                "fetch",
                "axios.get",
                "https.request",
                "http.request",
                "pg.Pool",
                "amqplib.connect"
            ]
        );
        assert!(facts.calls[4].is_new);
        assert_eq!(facts.functions[0].name, "Gateway.forward");
        assert_eq!(facts.functions[0].params[0].type_text, "AbortSignal");
        assert_eq!(facts.functions[1].name, "handler");
        let init = &facts.literals[0];
        assert!(init.has_spread);
        assert!(init.field("method").is_some());
        assert_eq!(
            facts.literals[1].field("timeout").map(|f| f.name.as_str()),
            Some("timeout")
        );
    });
}

#[test]
fn tolerates_error_nodes() {
    for (language, source) in [
        (Language::Go, "package main\nfunc f( {\n http.Get(\n"),
        (Language::Rust, "fn f( { reqwest::get(\"x\"). }"),
        (Language::TypeScript, "function f( { fetch(a, { ...x, \n"),
    ] {
        with_facts(language, source, |facts| {
            let _ = facts.component_at(source.len());
        });
    }
}
