use dsr_syntax::{Document, Language};

use super::{compact, FileFacts};

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

#[test]
fn go_context_source_sees_through_closures_and_prefers_ctx() {
    let source = r#"package main
import (
    stdctx "context"
    "net/http"
)
func handle(w http.ResponseWriter, r *http.Request) {
    go func() { work() }()
}
func both(r *http.Request, c stdctx.Context) { work() }
func ignored(_ stdctx.Context) { work() }
func none() { work() }
"#;
    with_facts(Language::Go, source, |facts| {
        let source_of = |name: &str| {
            let index = facts.functions.iter().position(|f| f.name == name).unwrap();
            facts.context_source(index, source)
        };
        let closure = facts
            .functions
            .iter()
            .position(|f| f.name == "<anonymous>")
            .unwrap();
        let from_closure = facts.context_source(closure, source).unwrap();
        assert_eq!(from_closure.kind, super::ContextKind::Request);
        assert_eq!(from_closure.expression, "r.Context()");
        assert_eq!(facts.functions[from_closure.function].name, "handle");
        let both = source_of("both").unwrap();
        assert_eq!(
            (both.kind, both.expression.as_str()),
            (super::ContextKind::Context, "c")
        );
        assert_eq!(source_of("ignored"), None);
        assert_eq!(source_of("none"), None);
    });
}

#[test]
fn typescript_abort_signal_parameters() {
    let source = r#"
async function a(url: string, s?: AbortSignal | undefined) {}
const b = async ({ signal, x }: { signal: AbortSignal }) => {};
function c(u, { signal: abort, y = 1 } = {}) {}
function d(opts: { signal?: AbortSignal }) {}
function e(signal) {}
function f(controller: AbortController, sig: string) {}
function g(signal: NodeJS.Signals) {}
"#;
    with_facts(Language::TypeScript, source, |facts| {
        let expressions: Vec<_> = (0..facts.functions.len())
            .map(|i| facts.context_source(i, source).map(|c| c.expression))
            .collect();
        assert_eq!(
            expressions,
            [
                Some("s".to_string()),
                Some("signal".to_string()),
                Some("abort".to_string()),
                Some("opts.signal".to_string()),
                Some("signal".to_string()),
                None,
                None
            ]
        );
    });
}

#[test]
fn chained_calls_and_string_arguments() {
    let source = r#"
fn f() {
    let r = redis::cmd("SET").arg(&key).arg("NX").query_async(&mut c).await?;
    redis::cmd("GET").arg(k);
}
"#;
    with_facts(Language::Rust, source, |facts| {
        let cmd = facts
            .calls
            .iter()
            .position(|c| c.path_is("redis::cmd"))
            .unwrap();
        let chain: Vec<_> = facts
            .chained_calls(cmd)
            .into_iter()
            .map(|i| facts.calls[i].method.clone().unwrap_or_default())
            .collect();
        assert_eq!(chain, ["arg", "arg", "query_async"]);
        let nx = facts
            .calls
            .iter()
            .find(|c| {
                c.method.as_deref() == Some("arg")
                    && c.string_arg(0, source, Language::Rust).is_some()
            })
            .unwrap();
        assert_eq!(
            nx.string_arg(0, source, Language::Rust).as_deref(),
            Some("NX")
        );
        assert_eq!(
            facts.calls[cmd].string_args(source, Language::Rust)[0]
                .1
                .as_deref(),
            Some("SET")
        );
    });
}

#[test]
fn go_package_references_and_package_names() {
    let source = r#"package main
import (
    "context"
    "go.etcd.io/etcd/client/v3"
)
func f(ctx context.Context) { g(context.Background()); clientv3.OpPut("k", "v") }
"#;
    let document = Document::new(Language::Go, source, 0).expect("grammar loads");
    let tree = document.tree().unwrap();
    let facts = FileFacts::compute(Language::Go, Some(tree), source);
    assert_eq!(facts.go_package_references(source, "context").len(), 2);
    assert!(facts
        .calls
        .iter()
        .any(|c| c.path_is("go.etcd.io/etcd/client/v3.OpPut")));
}

#[test]
fn rust_glob_imports_bring_their_module_into_scope() {
    with_facts(
        Language::Rust,
        "use fred::prelude::*;\nuse redis::{*};\n",
        |facts| {
            assert!(facts.imports_module("fred"));
            assert!(facts.imports_module("redis"));
            assert_eq!(facts.import("prelude"), None);
        },
    );
}

#[test]
fn rust_async_is_seen_after_a_visibility() {
    let source = "pub async fn a() {}\npub(crate) async unsafe fn b() {}\npub fn c() {}\n";
    with_facts(Language::Rust, source, |facts| {
        let flags: Vec<bool> = facts.functions.iter().map(|f| f.is_async).collect();
        assert_eq!(flags, [true, true, false]);
    });
}

/// The traversal records every node once, in the order `descendants` visits them, and the kind-id filters
/// agree with kind names: rules that read `nodes()` instead of walking the tree see exactly the same nodes.
#[test]
fn recorded_nodes_are_the_trees_nodes_in_pre_order() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/shop");
    let files = [
        ("api/orders.go", Language::Go),
        ("api/outbox.go", Language::Go),
        ("gateway/src/server.ts", Language::TypeScript),
        ("worker/src/main.rs", Language::Rust),
    ];
    for (file, language) in files {
        let source = std::fs::read_to_string(root.join(file)).expect("sample file");
        let document = Document::new(language, &source, 0).expect("grammar loads");
        let tree = document.tree().expect("tree");
        let facts = FileFacts::compute(language, Some(tree), &source);
        let walked: Vec<_> = dsr_syntax::node::descendants(tree.root_node()).collect();
        assert_eq!(facts.nodes(), &walked[..], "{file}");
        let kinds = [
            "call_expression",
            "identifier",
            "var_spec",
            "select_statement",
        ];
        let filtered: Vec<_> = facts.nodes_of_kind(&kinds).collect();
        let by_name: Vec<_> = walked
            .iter()
            .copied()
            .filter(|n| kinds.contains(&n.kind()))
            .collect();
        assert_eq!(filtered, by_name, "{file}");
        // The kind prescan agrees with the nodes: a kind the file has, and one it lacks.
        assert_eq!(facts.kind_ids().len(), walked.len(), "{file}");
        for kind in ["call_expression", "select_statement", "go_statement"] {
            let count = walked.iter().filter(|n| n.kind() == kind).count();
            assert_eq!(facts.count_of_kind(kind), count, "{file} {kind}");
            assert_eq!(
                facts.has_kind(&[kind, "no_such_kind"]),
                count > 0,
                "{file} {kind}"
            );
        }
    }
}

/// The receiver type of the first call of `method`, for [`FileFacts::receiver_type`] tests.
fn receiver_of(language: Language, source: &str, method: &str) -> super::ReceiverType {
    let document = Document::new(language, source, 0).expect("grammar loads");
    let facts = FileFacts::compute(language, document.tree(), source);
    let call = facts
        .calls
        .iter()
        .find(|c| c.method.as_deref() == Some(method))
        .unwrap_or_else(|| panic!("a call of {method}"));
    facts.receiver_type(call)
}

#[test]
fn receivers_are_bound_by_declared_types_constructors_fields_and_callbacks() {
    use super::ReceiverType::{Resolved, Unknown, Written};
    let resolved = |s: &str| Resolved(s.to_string());
    let go = "package p\nimport \"github.com/redis/go-redis/v9\"\ntype S struct { rdb *redis.Client }\nfunc (s *S) f(ctx context.Context, m map[string]int) {\n\ts.rdb.Del(ctx, k)\n\tc := redis.NewClient(o)\n\tc.Get(ctx, k)\n\tm.Set(1)\n\tx.Get(ctx, k)\n}\n";
    assert_eq!(
        receiver_of(Language::Go, go, "Del"),
        resolved("github.com/redis/go-redis/v9.Client")
    );
    assert_eq!(
        receiver_of(Language::Go, go, "Get"),
        resolved("github.com/redis/go-redis/v9.NewClient")
    );
    assert_eq!(
        receiver_of(Language::Go, go, "Set"),
        Written("map".to_string())
    );
    let default_client = "package p\nimport \"net/http\"\nfunc f(req *http.Request) {\n\tclient := http.DefaultClient\n\tclient.Do(req)\n}\n";
    assert_eq!(
        receiver_of(Language::Go, default_client, "Do"),
        resolved("net/http.DefaultClient")
    );
    let unbound = go.replace("\tc.Get(ctx, k)\n", "");
    assert_eq!(receiver_of(Language::Go, &unbound, "Get"), Unknown);
    let rust = "use rdkafka::producer::FutureProducer;\nuse reqwest::Client;\nuse std::collections::HashMap;\nasync fn f(producer: &FutureProducer, client: Client) {\n    let client = client.clone();\n    client.get(u).send().await;\n    producer.send(r, t).await;\n    let mut seen = HashMap::new();\n    seen.insert(1, 2);\n}\n";
    assert_eq!(
        receiver_of(Language::Rust, rust, "get"),
        resolved("reqwest::Client")
    );
    assert_eq!(
        receiver_of(Language::Rust, rust, "send"),
        resolved("reqwest::Client")
    );
    assert_eq!(
        receiver_of(Language::Rust, rust, "insert"),
        resolved("std::collections::HashMap::new")
    );
    let ts = "import knex from \"knex\";\nimport Redis from \"ioredis\";\nimport { PrismaClient } from \"@prisma/client\";\nconst db = knex({});\nclass C {\n  constructor(private redis: Redis) {}\n  async f(prisma: PrismaClient) {\n    await db(\"t\").where(1).insert({});\n    await this.redis.get(k);\n    await prisma.$transaction(async (tx) => { await tx.order.create({}); });\n    const params = new URLSearchParams();\n    params.set(\"a\", \"b\");\n  }\n}\n";
    assert_eq!(
        receiver_of(Language::TypeScript, ts, "insert"),
        resolved("knex")
    );
    assert_eq!(
        receiver_of(Language::TypeScript, ts, "get"),
        resolved("ioredis")
    );
    assert_eq!(
        receiver_of(Language::TypeScript, ts, "create"),
        resolved("@prisma/client.PrismaClient")
    );
    assert_eq!(
        receiver_of(Language::TypeScript, ts, "set"),
        Written("URLSearchParams".to_string())
    );
}

#[test]
fn calls_and_literals_are_recorded_in_document_order() {
    // `FileFacts::receiver_type` finds a call or literal by its node with a binary search on its start.
    let samples = [
        (
            Language::Go,
            "package p\nfunc f() { a.b(c.d(e()), T{x: g()}).h(); go func() { i() }() }\n",
        ),
        (
            Language::Rust,
            "fn f() { a.b(c::d(e!(x)), S { x: g() }).h()?; let v = vec![k()]; }\n",
        ),
        (
            Language::TypeScript,
            "const x = a.b(new C(d()), { e: f() }).g(`${h()}`);\nclass K { m() { return i(); } }\n",
        ),
    ];
    for (language, source) in samples {
        with_facts(language, source, |facts| {
            let starts: Vec<_> = facts.calls.iter().map(|c| c.node.start_byte()).collect();
            assert!(
                starts.windows(2).all(|w| w[0] <= w[1]),
                "{language:?} calls {starts:?}"
            );
            let starts: Vec<_> = facts.literals.iter().map(|l| l.node.start_byte()).collect();
            assert!(
                starts.windows(2).all(|w| w[0] <= w[1]),
                "{language:?} literals {starts:?}"
            );
        });
    }
}

/// Files of each language with nesting, closures, repeated names and a syntax error: what the recorded parents
/// and the binary searches must agree with tree-sitter and with scans of every item on.
const INDEX_SAMPLES: [(Language, &str); 4] = [
    (
        Language::Go,
        "package a\nimport \"net/http\"\nvar c = 1\nfunc F(x int) {\n\tc := http.Client{}\n\tresp, err := c.Get(\"u\")\n\tif err != nil { return }\n\tgo func() { c := 2; _ = c; resp.Body.Close() }()\n}\nfunc G() { c := 3; F(c) }\nfunc H( {\n",
    ),
    (
        Language::Rust,
        "use std::sync::Mutex;\nstatic C: u8 = 1;\nimpl S {\n    fn f(&self) { let c = 2; let d = || { let c = 3; g(c) }; d(); }\n}\nfn g(c: u8) -> u8 { let c = c + 1; c }\n",
    ),
    (
        Language::TypeScript,
        "const c = 1;\nclass A { m() { const c = 2; const f = () => { const c = 3; return g(c); }; return f(); } }\nfunction g(c: number) { let d = c; d = 4; return fetch(`${d}`); }\n",
    ),
    (
        Language::Tsx,
        "const c = 1;\nexport function App() { const c = 2; return <div onClick={() => { const c = 3; f(c); }}>{c}</div>; }\n",
    ),
];

#[test]
fn recorded_parents_and_ancestors_are_tree_sitters() {
    for (language, source) in INDEX_SAMPLES {
        with_facts(language, source, |facts| {
            assert!(!facts.nodes().is_empty());
            for &node in facts.nodes() {
                assert_eq!(facts.parent(node), node.parent(), "{language:?} {node:?}");
                let recorded: Vec<_> = facts.ancestors(node).collect();
                let asked: Vec<_> = dsr_syntax::node::ancestors(node).collect();
                assert_eq!(recorded, asked, "{language:?} {node:?}");
            }
        });
    }
}

#[test]
fn range_lookups_and_declared_values_agree_with_scans() {
    for (language, source) in INDEX_SAMPLES {
        with_facts(language, source, |facts| {
            for &node in facts.nodes() {
                let range = dsr_syntax::TextRange::of(node);
                let calls: Vec<_> = facts.calls_within(range).map(|c| c.node).collect();
                let scanned: Vec<_> = facts
                    .calls
                    .iter()
                    .filter(|c| range.contains_range(c.range()))
                    .map(|c| c.node)
                    .collect();
                assert_eq!(calls, scanned, "{language:?} {node:?}");
                let assignments: Vec<_> = facts
                    .assignments_within(range)
                    .map(|a| (a.node, a.target.clone()))
                    .collect();
                let scanned: Vec<_> = facts
                    .assignments
                    .iter()
                    .filter(|a| range.contains_range(dsr_syntax::TextRange::of(a.node)))
                    .map(|a| (a.node, a.target.clone()))
                    .collect();
                assert_eq!(assignments, scanned, "{language:?} {node:?}");
            }
            let functions: Vec<Option<usize>> = std::iter::once(None)
                .chain((0..facts.functions.len()).map(Some))
                .collect();
            for function in functions {
                for name in ["c", "d", "resp", "x"] {
                    for offset in 0..=source.len() {
                        let scanned = facts
                            .assignments
                            .iter()
                            .filter(|a| {
                                a.declares && a.target == name && a.node.start_byte() < offset
                            })
                            .filter(|a| a.function == function || a.function.is_none())
                            .max_by_key(|a| (a.function.is_some(), a.node.start_byte()))
                            .and_then(|a| a.value);
                        assert_eq!(
                            facts.declared_value(function, name, offset),
                            scanned,
                            "{language:?} {function:?} {name} {offset}"
                        );
                        // `declaration_of`: the innermost scope with a declaration (or parameter) wins.
                        let mut scope = function;
                        let scanned = loop {
                            let declared = facts
                                .assignments
                                .iter()
                                .enumerate()
                                .filter(|(_, a)| {
                                    a.declares
                                        && a.function == scope
                                        && a.target == name
                                        && a.node.start_byte() < offset
                                })
                                .max_by_key(|(_, a)| a.node.start_byte());
                            if let Some((index, _)) = declared {
                                break Some(super::Declaration::Assignment(index));
                            }
                            let Some(index) = scope else { break None };
                            let f = &facts.functions[index];
                            if let Some(position) = f.params.iter().position(|p| p.name == name) {
                                break Some(super::Declaration::Parameter {
                                    function: index,
                                    index: position,
                                });
                            }
                            scope = f.parent;
                        };
                        assert_eq!(
                            facts.declaration_of(function, name, offset),
                            scanned,
                            "{language:?} {function:?} {name} {offset}"
                        );
                    }
                }
            }
        });
    }
}

#[test]
fn functions_are_found_by_whole_name_and_rust_path_suffix() {
    let source = r#"
mod store {
    pub struct Cache;
}
impl store::Cache {
    pub fn get(&self) {}
}
struct Other;
impl Other {
    fn get(&self) {}
}
fn get() {}
"#;
    with_facts(Language::Rust, source, |facts| {
        let name = |i: usize| facts.functions[i].name.clone();
        let other = facts.function_with_path("Other::get", false).map(name);
        assert_eq!(other.as_deref(), Some("Other::get"));
        assert_eq!(
            facts.function_with_path("get", false).map(name).as_deref(),
            Some("get")
        );
        // A suffix counts only at a `::` boundary, and only when asked for.
        let cache = facts.function_with_path("Cache::get", true).map(name);
        assert_eq!(cache.as_deref(), Some("store::Cache::get"));
        assert_eq!(facts.function_with_path("Cache::get", false), None);
        assert_eq!(facts.function_with_path("her::get", true), None);
        assert_eq!(facts.function_with_path("Missing::get", true), None);
    });
}

#[test]
fn compact_removes_every_whitespace_and_keeps_the_rest() {
    assert_eq!(compact("a .\n b"), "a.b");
    assert_eq!(compact("a\u{0B}b\u{0C}c\rd\te"), "abcde");
    assert_eq!(compact("x\u{00A0}y\u{2003}z\u{3000}"), "xyz");
    assert_eq!(compact("plain::Path<T>"), "plain::Path<T>");
    assert_eq!(compact("naïve . café"), "naïve.café");
    assert_eq!(compact(""), "");
}

#[test]
fn declared_prescans_answer_from_kinds_and_callee_names() {
    use dsr_core::meta::Evidence;
    let kb = dsr_core::KnowledgeBase::builtin();
    let reads_clock = "package main\nimport t \"time\"\nfunc f() int64 { return t.Now().Unix() }\n";
    let no_clock = "package main\nfunc f(q []int) []int { q = append(q, 1); return q[1:] }\n";
    with_facts(Language::Go, reads_clock, |facts| {
        assert!(facts.holds_any(&[Evidence::KbClock], kb));
        assert!(facts.holds_any(&[], kb), "no declaration: always run");
        assert!(!facts.holds_any(&[Evidence::Callee("append")], kb));
        assert!(facts.holds_any(&[Evidence::Kind("return_statement")], kb));
    });
    with_facts(Language::Go, no_clock, |facts| {
        assert!(!facts.holds_any(&[Evidence::KbClock], kb));
        assert!(facts.holds_any(&[Evidence::KbClock, Evidence::Callee("append")], kb));
        assert!(!facts.holds_any(&[Evidence::Kind("go_statement")], kb));
    });
    with_facts(Language::TypeScript, "const a = new Date();\n", |facts| {
        assert!(facts.holds_any(&[Evidence::KbClock], kb))
    });
    with_facts(
        Language::Rust,
        "fn f() { let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<u8>(); }\n",
        |facts| {
            assert!(facts.holds_any(&[Evidence::KbUnboundedChannel], kb));
            assert!(!facts.holds_any(&[Evidence::KbClock], kb));
        },
    );
}
