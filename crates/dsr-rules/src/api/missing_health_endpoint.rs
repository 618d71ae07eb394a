use dsr_core::{declare_rule, Finding, Fix, Rule, RuleMeta, TextRange};
use dsr_semantic::models::handlers::is_health_name;
use dsr_semantic::RuleContext;

use crate::shared::quote;

declare_rule! {
    /// ## What it finds
    /// A file that starts an HTTP server and registers its routes, none of which looks like a health, readiness
    /// or liveness probe (a path or handler named like `health`, `healthz`, `healthy`, `ready`, `readyz`,
    /// `live`, `livez`, `ping`). Asked as an open question: the probe may be served by a sidecar, a separate
    /// admin port or a router defined elsewhere.
    ///
    /// ## Why it fails under partial failure
    /// Without a readiness endpoint the load balancer sends traffic to an instance that is still starting, has
    /// lost its database, or is draining for shutdown — every such request fails. Without a liveness endpoint a
    /// wedged process (a deadlock, an exhausted pool) keeps receiving requests until someone restarts it by
    /// hand. A TCP check only proves the port is open, which a stuck process still does.
    ///
    /// ## Known false positives
    /// Probes served elsewhere: a management port in another file, a service mesh or sidecar, a platform that
    /// checks a route registered by a shared library. Files that mount routers defined elsewhere
    /// (`app.use(router)`, `.nest(…)`, `.configure(…)`, `mux.Handle("/api/", api)`) or register a route whose
    /// path is not a literal are not reported, since the probe may be among those routes; so are Go files that
    /// hand their mux to a call named for a probe (`lifecycle.RegisterHealth(mux)`). gRPC servers are not
    /// reported (their probe is the gRPC health service), nor side listeners that serve only metrics or debug
    /// endpoints (`/metrics`, `/debug/pprof/`): the probes are on the main server. Servers started in tests are
    /// not reported.
    ///
    /// ## Example
    /// ```go
    /// package main
    ///
    /// import "net/http"
    ///
    /// func main() {
    ///     mux := http.NewServeMux()
    ///     mux.HandleFunc("POST /orders", placeOrder)
    ///     mux.HandleFunc("GET /orders/{id}", getOrder)
    ///     http.ListenAndServe(":8080", mux)
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// package main
    ///
    /// import "net/http"
    ///
    /// func main() {
    ///     mux := http.NewServeMux()
    ///     mux.HandleFunc("POST /orders", placeOrder)
    ///     mux.HandleFunc("GET /orders/{id}", getOrder)
    ///     mux.HandleFunc("GET /readyz", ready)
    ///     http.ListenAndServe(":8080", mux)
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Advice only: what "ready" means (database reachable, caches warm, not draining) is the service's call.
    ///
    /// ## Configuration
    /// None.
    ///
    /// ## References
    /// - Kubernetes documentation, "Configure Liveness, Readiness and Startup Probes".
    /// - Google SRE Book, chapter 22 "Addressing Cascading Failures" (health checks and load balancing).
    pub struct MissingHealthEndpoint {
        code: "API002",
        slug: "missing-health-endpoint",
        family: Api,
        languages: [Go, Rust, TypeScript],
        severity: Low,
        impact: Operability,
        kind: OpenQuestion,
        fix: Never,
        scope: File,
        reads: [Handlers],
        roles: Servers,
    }
}

impl Rule<RuleContext<'_>> for MissingHealthEndpoint {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        let model = ctx.handlers();
        let Some(server) = model.servers.iter().find(|s| !s.rpc) else {
            return;
        };
        if model.routes.is_empty() || !model.mounts.is_empty() {
            return;
        }
        let mut paths = Vec::new();
        for route in &model.routes {
            let Some(path) = &route.path else {
                return;
            };
            if is_health_name(path) || route.handler_name.as_deref().is_some_and(is_health_name) {
                return;
            }
            paths.push(path.as_str());
        }
        if paths.iter().all(|path| is_operations_path(path)) {
            return;
        }
        paths.sort_unstable();
        paths.dedup();
        let shown = quote(&paths.join(", "), 80);
        let call = &ctx.facts.calls[server.call];
        ctx.finding(&MissingHealthEndpoint::META, TextRange::of(call.callee))
            .title(format!(
                "server started with `{}` serves {} route(s) ({shown}) and no health or readiness endpoint: is it probed elsewhere?",
                quote(&call.callee_text, 40),
                paths.len()
            ))
            .trigger("the instance is starting, has lost a dependency, or is draining")
            .expected("a readiness route the load balancer checks, and a liveness route the orchestrator restarts on")
            .actual("no route in this file looks like a probe; traffic keeps arriving at an instance that cannot serve it")
            .evidence(TextRange::of(server.node), "server started here")
            .fix(Fix::advice(
                "add `GET /readyz` (dependencies reachable, not draining) and `GET /livez` (process responsive), and point the orchestrator's probes at them",
            ))
            .emit(sink);
    }
}

/// A metrics or debugging endpoint (`/metrics`, `/debug/pprof/`): a server with only these is a side listener
/// for operators, and the service's probes are on its main server.
fn is_operations_path(path: &str) -> bool {
    let first = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    matches!(first, "metrics" | "debug")
}
