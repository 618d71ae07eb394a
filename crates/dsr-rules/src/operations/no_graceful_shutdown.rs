use dsr_core::{
    declare_rule, Applicability, Edit, Finding, Fix, Language, Rule, RuleMeta, TextRange,
};
use dsr_semantic::models::handlers::{Framework, ServerStart, Shutdown};
use dsr_semantic::RuleContext;

use crate::shared::{indentation_at, quote};

declare_rule! {
    /// ## What it finds
    /// A program's entry point that starts a server and never drains it on SIGTERM. The entry point is `main`
    /// and the functions of the same file it calls (directly or through each other). Go: `main` calls
    /// `http.ListenAndServe`/`Serve`, `srv.ListenAndServe()`, gin `Run`, echo `Start` or fiber `Listen`, and the
    /// file never calls `Shutdown` (or `GracefulStop`). Rust: `main` runs `axum::serve` without
    /// `.with_graceful_shutdown(…)`, a hyper/axum 0.6 `Server::bind(…).serve(…)` without it, a tonic
    /// `Server::builder()…serve(…)` instead of `serve_with_shutdown`, `warp::serve(…).run(…)`, or an actix-web
    /// `HttpServer` whose signal handling was turned off with `.disable_signals()`. TypeScript/JavaScript: a
    /// `.listen(…)` with no `process.on("SIGTERM", …)` handler that closes the server (nor NestJS
    /// `enableShutdownHooks()`, `@godaddy/terminus`, `http-terminator`, `stoppable`, `close-with-grace`).
    ///
    /// ## Why it fails under partial failure
    /// Every deploy, scale-in and node drain ends a process with SIGTERM. Without a handler, Go and Node exit at
    /// once and a tokio `main` is killed mid-await: requests in flight are cut off (the client sees a reset
    /// connection or a 502 from the load balancer), and a request that had already written to the database but
    /// not yet answered is retried by the client — a duplicate. A graceful shutdown stops accepting, lets
    /// in-flight requests finish within a deadline, then exits; with a readiness probe failing first, the load
    /// balancer stops sending traffic before the listener closes.
    ///
    /// ## Known false positives
    /// A shutdown wired in another file (a `Shutdown` helper in another package, a signal handler registered by
    /// a shared bootstrap module) is not seen: the analysis is per file. Servers started in Go and Rust functions
    /// that `main` does not reach within the file (a library's `Run` method) are not reported for that reason. actix-web's `HttpServer` is clean by
    /// default: it handles SIGINT, SIGTERM and SIGQUIT itself and waits up to 30 s (`shutdown_timeout`) for
    /// workers to finish. Servers started in tests are not reported.
    ///
    /// ## Example
    /// ```go
    /// package main
    ///
    /// import "net/http"
    ///
    /// func main() {
    ///     mux := http.NewServeMux()
    ///     mux.HandleFunc("/orders", listOrders)
    ///     srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
    ///     srv.ListenAndServe()
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package main
    ///
    /// import (
    ///     "context"
    ///     "net/http"
    ///     "os"
    ///     "os/signal"
    ///     "syscall"
    ///     "time"
    /// )
    ///
    /// func main() {
    ///     mux := http.NewServeMux()
    ///     mux.HandleFunc("/orders", listOrders)
    ///     srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
    ///     go srv.ListenAndServe()
    ///
    ///     ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
    ///     defer stop()
    ///     <-ctx.Done()
    ///     shutdownCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
    ///     defer cancel()
    ///     srv.Shutdown(shutdownCtx)
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Go and Rust get advice with the snippet to add: draining needs a deadline shorter than the orchestrator's
    /// grace period (Kubernetes: 30 s by default), and the server has to be moved into a goroutine or task.
    /// TypeScript: for a Node `http` server or a fastify instance held in a variable, a
    /// `process.on("SIGTERM", () => server.close())` line after the `listen` call is offered but not applied
    /// unattended (the process may need other cleanup before it exits).
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Go documentation, `net/http.Server.Shutdown` and `os/signal.NotifyContext`.
    /// - axum documentation, `serve::Serve::with_graceful_shutdown`; tonic, `Server::serve_with_shutdown`.
    /// - actix-web documentation, "Server: Graceful shutdown".
    /// - Node.js documentation, `server.close()`; Kubernetes, "Termination of Pods".
    pub struct NoGracefulShutdown {
        code: "OPS002",
        slug: "no-graceful-shutdown",
        family: Operations,
        languages: [Go, Rust, TypeScript],
        severity: Medium,
        impact: Availability,
        kind: Finding,
        fix: Sometimes,
        scope: Function,
        reads: [Handlers],
        roles: Servers,
    }
}

impl Rule<RuleContext<'_>> for NoGracefulShutdown {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        for server in &ctx.handlers().servers {
            if server.entry && server.shutdown == Shutdown::Missing {
                report(ctx, server, sink);
            }
        }
    }
}

fn report(ctx: &RuleContext<'_>, server: &ServerStart<'_>, sink: &mut Vec<Finding>) {
    let call = &ctx.facts.calls[server.call];
    let name = quote(&call.callee_text, 48);
    let (default, advice) = match ctx.language {
        Language::Go => (
            "Go installs no SIGTERM handler, so the process exits at once",
            "run the server in a goroutine, wait on `signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)`, then call `srv.Shutdown` with a deadline shorter than the orchestrator's grace period",
        ),
        Language::Rust if server.framework == Framework::ActixWeb => (
            "`.disable_signals()` turned off actix-web's own SIGTERM handling",
            "drop `.disable_signals()`, or keep the `ServerHandle` and call `handle.stop(true)` from your signal handler",
        ),
        Language::Rust if server.framework == Framework::Tonic => (
            "`serve` runs until the process is killed",
            "use `serve_with_shutdown(addr, signal)` with a future that completes on SIGTERM (`tokio::signal::unix::signal(SignalKind::terminate())`)",
        ),
        Language::Rust => (
            "tokio installs no SIGTERM handler, so the process is killed mid-request",
            "chain `.with_graceful_shutdown(shutdown_signal())` where `shutdown_signal` awaits `tokio::signal::ctrl_c()` or `signal(SignalKind::terminate())`",
        ),
        _ => (
            "Node's default SIGTERM action ends the process at once",
            "handle SIGTERM: `process.on(\"SIGTERM\", () => server.close(() => process.exit(0)))` (or NestJS `app.enableShutdownHooks()`)",
        ),
    };
    let mut builder = ctx
        .finding(&NoGracefulShutdown::META, TextRange::of(call.callee))
        .title(format!(
            "`{name}` is never shut down gracefully: {default} and drops in-flight requests"
        ))
        .trigger("a deploy, scale-in or node drain sends SIGTERM")
        .expected("the server stops accepting, finishes the requests in flight within a deadline, then exits")
        .actual(format!(
            "{default}; clients see reset connections or 502s and retry requests that may already have taken effect"
        ))
        .evidence(call.range(), format!("{} server started here", server.framework.name()));
    builder = match ts_edit(ctx, server) {
        Some(edit) => builder.fix(Fix::edits(
            "close the server on SIGTERM",
            Applicability::Maybe,
            vec![edit],
        )),
        None => builder.fix(Fix::advice(advice)),
    };
    builder.emit(sink);
}

/// `server.listen(…);` as a statement, `server` a local Node http server or fastify instance: the line to add
/// after it. Express's `app` has no `close`, so it gets advice.
fn ts_edit(ctx: &RuleContext<'_>, server: &ServerStart<'_>) -> Option<Edit> {
    if !ctx.language.is_typescript()
        || !matches!(server.framework, Framework::NodeHttp | Framework::Fastify)
    {
        return None;
    }
    let call = &ctx.facts.calls[server.call];
    let receiver = call.receiver.filter(|r| r.kind() == "identifier")?;
    let statement = server.node.parent().filter(|p| {
        p.kind() == "expression_statement"
            || (p.kind() == "await_expression"
                && p.parent()
                    .is_some_and(|g| g.kind() == "expression_statement"))
    })?;
    let statement = if statement.kind() == "await_expression" {
        statement.parent()?
    } else {
        statement
    };
    let name = ctx.node_text(receiver);
    let built_here = ctx
        .facts
        .declared_value(call.function, name, call.node.start_byte())
        .is_some_and(|value| {
            ctx.facts.calls.iter().any(|c| {
                c.node == value
                    && (c.path.as_deref().is_some_and(|p| {
                        p.ends_with("createServer") || p == "fastify" || p.starts_with("fastify.")
                    }) || c.callee_text.eq_ignore_ascii_case("fastify"))
            })
        });
    if !built_here {
        return None;
    }
    let indent = indentation_at(ctx.source, statement.start_byte());
    Some(Edit::insert(
        statement.end_byte(),
        format!("\n{indent}process.on(\"SIGTERM\", () => {name}.close());"),
    ))
}
