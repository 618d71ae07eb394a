use std::path::Path;

use dsr_syntax::{Document, Language};

use super::{is_health_name, Framework, Handlers, Shutdown};
use crate::FileFacts;
use dsr_core::kb::KnowledgeBase;

/// (handler function names with their routes, route paths, servers as (framework, entry, shutdown kind)).
struct Summary {
    handlers: Vec<(String, Option<String>, Framework)>,
    routes: Vec<Option<String>>,
    servers: Vec<(Framework, bool, &'static str)>,
}

fn summarize(language: Language, path: &str, source: &str) -> Summary {
    let document = Document::new(language, source, 0).expect("grammar loads");
    let facts = FileFacts::compute(language, document.tree(), source);
    let model = Handlers::compute(&facts, source, Path::new(path));
    Summary {
        handlers: model
            .handlers
            .iter()
            .map(|h| {
                (
                    facts.functions[h.function].name.clone(),
                    h.route.clone(),
                    h.framework,
                )
            })
            .collect(),
        routes: model.routes.iter().map(|r| r.path.clone()).collect(),
        servers: model
            .servers
            .iter()
            .map(|s| {
                let kind = match s.shutdown {
                    Shutdown::Wired(_) => "wired",
                    Shutdown::LibraryDefault(_) => "default",
                    Shutdown::Missing => "missing",
                };
                (s.framework, s.entry, kind)
            })
            .collect(),
    }
}

#[test]
fn go_net_http_handlers_routes_and_server() {
    let s = summarize(
        Language::Go,
        "main.go",
        r#"package main

import (
	"net/http"
	nethttp "net/http"
)

func list(w http.ResponseWriter, r *http.Request) {}

func (h *Orders) Get(w nethttp.ResponseWriter, r *nethttp.Request) {}

func helper(x int) {}

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders", list)
	mux.HandleFunc("/orders/{id}", orders.Get)
	http.Handle("/metrics", promhttp.Handler())
	mux.HandleFunc("/inline", func(w http.ResponseWriter, r *http.Request) {})
	http.ListenAndServe(":8080", mux)
}
"#,
    );
    let names: Vec<_> = s
        .handlers
        .iter()
        .map(|h| (h.0.as_str(), h.1.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("list", Some("/orders")),
            ("Orders.Get", Some("/orders/{id}")),
            ("<anonymous>", Some("/inline")),
        ]
    );
    assert_eq!(s.routes.len(), 4);
    assert_eq!(s.servers, [(Framework::NetHttp, true, "missing")]);
}

#[test]
fn go_shutdown_on_signal_and_frameworks() {
    let s = summarize(
        Language::Go,
        "main.go",
        r#"package main

import (
	"context"
	"net/http"
	"os/signal"
	"github.com/gin-gonic/gin"
)

func ping(c *gin.Context) {}

func main() {
	r := gin.Default()
	r.GET("/ping", ping)
	srv := &http.Server{Addr: ":8080", Handler: r}
	go srv.ListenAndServe()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	<-ctx.Done()
	srv.Shutdown(context.Background())
}

func other() {
	e := gin.New()
	e.Run(":9090")
}
"#,
    );
    assert_eq!(s.handlers.len(), 1);
    assert_eq!(s.handlers[0].2, Framework::Gin);
    assert_eq!(
        s.servers,
        [
            (Framework::NetHttp, true, "wired"),
            (Framework::Gin, false, "wired"),
        ]
    );
}

#[test]
fn rust_axum_actix_tonic() {
    let s = summarize(
        Language::Rust,
        "src/main.rs",
        r#"use axum::{routing::get, Router};

async fn health() -> &'static str { "ok" }
async fn list_orders() {}

#[tokio::main]
async fn main() {
    let app = Router::new()
        .route("/healthz", get(health))
        .route("/orders", get(list_orders).post(create));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
"#,
    );
    let names: Vec<_> = s
        .handlers
        .iter()
        .map(|h| (h.0.as_str(), h.1.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("health", Some("/healthz")),
            ("list_orders", Some("/orders"))
        ]
    );
    assert_eq!(s.servers, [(Framework::Axum, true, "missing")]);

    let s = summarize(
        Language::Rust,
        "src/main.rs",
        r#"use actix_web::{get, web, App, HttpServer};

#[get("/orders/{id}")]
async fn order(id: web::Path<u32>) -> String { String::new() }

async fn index() -> String { String::new() }

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| App::new().service(order).service(web::resource("/").route(web::get().to(index))))
        .bind(("0.0.0.0", 8080))?
        .run()
        .await
}
"#,
    );
    let names: Vec<_> = s
        .handlers
        .iter()
        .map(|h| (h.0.as_str(), h.1.as_deref()))
        .collect();
    assert_eq!(
        names,
        [("order", Some("/orders/{id}")), ("index", Some("/"))]
    );
    assert_eq!(s.servers, [(Framework::ActixWeb, true, "default")]);

    let s = summarize(
        Language::Rust,
        "src/main.rs",
        r#"use tonic::{transport::Server, Request, Response, Status};

#[tonic::async_trait]
impl Greeter for MyGreeter {
    async fn say_hello(&self, request: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        todo!()
    }
}

#[tokio::main]
async fn main() {
    Server::builder()
        .add_service(GreeterServer::new(MyGreeter::default()))
        .serve_with_shutdown(addr, shutdown())
        .await
        .unwrap();
}
"#,
    );
    assert_eq!(s.handlers.len(), 1);
    assert_eq!(s.handlers[0].2, Framework::Tonic);
    assert_eq!(s.servers, [(Framework::Tonic, true, "wired")]);
}

#[test]
fn typescript_express_nest_and_route_files() {
    let s = summarize(
        Language::TypeScript,
        "src/server.ts",
        r#"import express from "express";

const app = express();
async function listOrders(req, res) {}
app.get("/orders", auth, listOrders);
app.post("/orders", async (req, res) => {});
app.use("/admin", adminRouter);
const server = app.listen(3000);
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
});
"#,
    );
    let names: Vec<_> = s
        .handlers
        .iter()
        .map(|h| (h.0.as_str(), h.1.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("listOrders", Some("/orders")),
            ("<anonymous>", Some("/orders"))
        ]
    );
    assert_eq!(s.routes.len(), 3);
    assert_eq!(s.servers, [(Framework::Express, true, "wired")]);

    let s = summarize(
        Language::TypeScript,
        "src/orders.controller.ts",
        r#"import { Controller, Get, Post, Param } from "@nestjs/common";

@Controller("orders")
export class OrdersController {
  @Get(":id")
  findOne(@Param("id") id: string) {}

  @Post()
  create() {}

  helper() {}
}
"#,
    );
    let names: Vec<_> = s
        .handlers
        .iter()
        .map(|h| (h.0.as_str(), h.1.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("OrdersController.findOne", Some("/orders/:id")),
            ("OrdersController.create", Some("/orders")),
        ]
    );

    let s = summarize(
        Language::TypeScript,
        "app/api/orders/[id]/route.ts",
        r#"export async function GET(request: Request) {}
export const POST = async (req: Request) => {};
export function helper() {}
"#,
    );
    let names: Vec<_> = s
        .handlers
        .iter()
        .map(|h| (h.0.as_str(), h.1.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("GET", Some("/api/orders/[id]")),
            ("POST", Some("/api/orders/[id]"))
        ]
    );

    let s = summarize(
        Language::TypeScript,
        "pages/api/orders.ts",
        "export default async function handler(req, res) {}\n",
    );
    assert_eq!(s.handlers.len(), 1);
    assert_eq!(s.handlers[0].1.as_deref(), Some("/api/orders"));
}

#[test]
fn typescript_server_without_signal_handler() {
    let s = summarize(
        Language::TypeScript,
        "src/main.ts",
        r#"import Fastify from "fastify";
const app = Fastify();
app.get("/orders", async () => []);
process.on("SIGTERM", () => process.exit(0));
app.listen({ port: 3000 });
"#,
    );
    assert_eq!(s.servers, [(Framework::Fastify, true, "missing")]);
}

#[test]
fn health_names() {
    for yes in [
        "/healthz",
        "/-/healthy",
        "/ready",
        "/readyz",
        "/livez",
        "/ping",
        "healthCheck",
        "/api/health-check",
    ] {
        assert!(is_health_name(yes), "{yes}");
    }
    for no in [
        "/orders",
        "/delivery",
        "/already",
        "/pingpong",
        "/shipping",
        "/olive",
    ] {
        assert!(!is_health_name(no), "{no}");
    }
}

#[test]
fn servers_started_in_functions_main_calls_are_entry_points() {
    let s = summarize(
        Language::Rust,
        "src/main.rs",
        r#"use actix_web::HttpServer;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    try_main().await
}

async fn try_main() -> anyhow::Result<()> {
    run_http().await
}

async fn run_http() -> anyhow::Result<()> {
    let server = HttpServer::new(move || create_app()).disable_signals();
    server.bind(("0.0.0.0", 7700))?.run().await?;
    Ok(())
}
"#,
    );
    assert_eq!(s.servers, [(Framework::ActixWeb, true, "missing")]);

    let s = summarize(
        Language::Go,
        "web.go",
        r#"package web

import "net/http"

func (h *Handler) Run(addr string) error {
	return http.ListenAndServe(addr, h.mux)
}
"#,
    );
    assert_eq!(s.servers, [(Framework::NetHttp, false, "missing")]);
}

#[test]
fn wrapped_handlers_and_mounted_routers() {
    let document_source = r#"package web

import "net/http"

func (api *API) Register(r *route.Router) {
	r.Get("/query", wrap(api.query))
	mux.Handle("/api/", apiHandler)
}

func (api *API) query(w http.ResponseWriter, r *http.Request) {}
"#;
    let document = Document::new(Language::Go, document_source, 0).expect("grammar loads");
    let facts = FileFacts::compute(Language::Go, document.tree(), document_source);
    let model = Handlers::compute(&facts, document_source, Path::new("api.go"));
    assert_eq!(model.handlers.len(), 1);
    assert_eq!(model.handlers[0].route.as_deref(), Some("/query"));
    assert_eq!(model.mounts.len(), 1);

    let source = r#"import express from "express";
const app = express();
app.use(express.json());
app.use("/api", ordersRouter);
app.register(plugin);
"#;
    let document = Document::new(Language::TypeScript, source, 0).expect("grammar loads");
    let facts = FileFacts::compute(Language::TypeScript, document.tree(), source);
    let model = Handlers::compute(&facts, source, Path::new("app.ts"));
    assert_eq!(model.mounts.len(), 2);
}

#[test]
fn request_signal_of_a_route_handler() {
    let source = "export async function GET(request: Request) {\n  return fetch(\"/x\");\n}\nexport async function helper(req: Request) {}\n";
    let document = Document::new(Language::TypeScript, source, 0).expect("grammar loads");
    let facts = FileFacts::compute(Language::TypeScript, document.tree(), source);
    let model = Handlers::compute(&facts, source, Path::new("app/orders/route.ts"));
    let get = facts
        .functions
        .iter()
        .position(|f| f.name == "GET")
        .expect("GET");
    let helper = facts
        .functions
        .iter()
        .position(|f| f.name == "helper")
        .expect("helper");
    let signal = model.request_signal(&facts, source, get).expect("a signal");
    assert_eq!(signal.expression, "request.signal");
    assert!(model.request_signal(&facts, source, helper).is_none());
}

#[test]
fn every_kb_web_framework_names_a_framework() {
    for language in [Language::Go, Language::Rust, Language::TypeScript] {
        for entry in KnowledgeBase::builtin().web_frameworks(language) {
            assert!(
                Framework::from_name(&entry.framework).is_some(),
                "kb [[web_framework]] `{}` names no framework",
                entry.framework
            );
        }
    }
}
