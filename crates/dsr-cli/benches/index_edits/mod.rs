//! The workspace index in the server (`cargo bench -p dsr-cli --bench lsp -- index`, or
//! `scripts/bench-lsp.sh index`), through the release binary over stdio, on a generated Go workspace:
//! `DSR_BENCH_INDEX_PACKAGES` packages (default 200) of ten files each, whose functions call the previous
//! package's and send HTTP requests, plus `orders/checkout.go` retrying `billing.Capture` (`billing/gateway.go`,
//! a POST) and a 5,000-line file in `orders`.
//!
//! - **Index build**: from `initialized` to the end of the indexing progress.
//! - **Keystrokes with the index on**: one-character edits in the middle of the open 5,000-line file, each sent
//!   after the previous one's diagnostics; time from `didChange` to that version's `publishDiagnostics`.
//! - **Open callee edited**: the open `billing/gateway.go` alternately gains and loses an idempotency-key
//!   header; time from its `didChange` to the open caller's republished diagnostics with DEL001 gone / back.
//!   The server takes an open document's text into the index once its edits pause (300 ms, `REINDEX_AFTER` in
//!   dsr-lsp), so the figure is that pause plus the work; the work alone is printed beside it.
//! - **Closed callee changed on disk**: the file rewritten and `workspace/didChangeWatchedFiles` sent (no
//!   pause); time to the caller's republish.
//!
//! `-- index-off` runs the keystrokes alone with the index off, to compare. `DSR_BENCH_INDEX_PACKAGES=N` sets the workspace's size; `DSR_BENCH_SERVER=PATH` drives another build of the
//! server.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::lsp_client::{LspClient, TempDir};
use crate::{cpu_time, ms, percentile, samples::go_file, type_and_delete};

/// The pause after which the server takes an open document's edits into the index (dsr-lsp `REINDEX_AFTER`).
const REINDEX_AFTER: Duration = Duration::from_millis(300);
/// Building the index of a large generated workspace on a loaded machine takes a while.
const BUILD_TIMEOUT: Duration = Duration::from_secs(600);

const GATEWAY: &str = "package billing\n\nimport \"net/http\"\n\n// Capture POSTs a capture.\nfunc Capture(url string) error {\n\treq, _ := http.NewRequest(http.MethodPost, url, nil)\n\tresp, err := http.DefaultClient.Do(req)\n\tif err != nil {\n\t\treturn err\n\t}\n\treturn resp.Body.Close()\n}\n";
const KEY_LINE: &str = "\treq.Header.Set(\"Idempotency-Key\", url)\n";
const CHECKOUT: &str = "package orders\n\nimport (\n\t\"time\"\n\n\t\"example.com/shop/billing\"\n)\n\nfunc Checkout(url string) error {\n\tfor attempt := 0; attempt < 3; attempt++ {\n\t\tif err := billing.Capture(url); err == nil {\n\t\t\treturn nil\n\t\t}\n\t\ttime.Sleep(time.Duration(1<<attempt) * time.Second)\n\t}\n\treturn nil\n}\n";

fn packages() -> usize {
    std::env::var("DSR_BENCH_INDEX_PACKAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

/// One file of a filler package: functions that call the previous package and send requests.
fn filler(package: usize, file: usize) -> String {
    let mut out = format!("package pkg{package}\n\nimport (\n\t\"net/http\"\n");
    if package > 0 {
        out.push_str(&format!("\n\t\"example.com/shop/pkg{}\"\n", package - 1));
    }
    out.push_str(")\n");
    for f in 0..8 {
        out.push_str(&format!(
            "\n// Fetch{file}x{f} reads a page.\nfunc Fetch{file}x{f}(url string) error {{\n\tresp, err := http.Get(url)\n\tif err != nil {{\n\t\treturn err\n\t}}\n\tdefer resp.Body.Close()\n"
        ));
        if package > 0 {
            out.push_str(&format!(
                "\treturn pkg{}.Fetch{file}x{f}(url)\n}}\n",
                package - 1
            ));
        } else {
            out.push_str("\treturn nil\n}\n");
        }
    }
    out
}

fn caller_has(message: &Value, caller: &str, present: bool) -> bool {
    message["method"] == "textDocument/publishDiagnostics"
        && message["params"]["uri"] == caller
        && message["params"]["diagnostics"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["code"] == "DEL001") == present)
}

fn summary(label: &str, mut times: Vec<Duration>, pause: Duration) {
    if times.is_empty() {
        return;
    }
    times.sort();
    let median = percentile(&times, 0.5);
    let p99 = percentile(&times, 0.99);
    println!(
        "  {label}: {} samples, median {}, p99 {}, max {}; less the {} pause: median {}, p99 {}",
        times.len(),
        ms(median),
        ms(p99),
        ms(*times.last().unwrap()),
        ms(pause),
        ms(median.saturating_sub(pause)),
        ms(p99.saturating_sub(pause)),
    );
}

/// With `index` false the server is started with the index off (`"index": false`), for the keystrokes
/// alone: the same workspace and file, to compare.
pub fn run(index: bool) {
    let packages = packages();
    let dir = TempDir::new("bench-index");
    dir.write("go.mod", "module example.com/shop\n\ngo 1.22\n");
    for p in 0..packages {
        for f in 0..10 {
            dir.write(&format!("pkg{p}/f{f}.go"), filler(p, f));
        }
    }
    dir.write("billing/gateway.go", GATEWAY);
    dir.write("orders/checkout.go", CHECKOUT);
    let big = go_file(5_000).replacen("package main", "package orders", 1);
    dir.write("orders/big.go", &big);
    let files = packages * 10 + 3;
    println!(
        "index {}: a generated Go workspace of {files} files",
        if index { "on" } else { "off" }
    );

    // `DSR_BENCH_SERVER=PATH`: another build of the server (a release binary when this runs as a test build).
    let mut client = match std::env::var_os("DSR_BENCH_SERVER") {
        Some(server) => {
            LspClient::spawn_binary(std::path::Path::new(&server), dir.path(), &[], &[])
        }
        None => LspClient::spawn(dir.path()),
    };
    let started = Instant::now();
    client.initialize(json!({
        "processId": null,
        "capabilities": {
            "general": {"positionEncodings": ["utf-16"]},
            "window": {"workDoneProgress": true},
            "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
        },
        "workspaceFolders": [{"uri": dir.uri(""), "name": "bench"}],
        "initializationOptions": {"index": index},
    }));
    let big_uri = dir.uri("orders/big.go");
    if !index {
        client.open(&big_uri, "go", 1, &big);
        client.diagnostics(&big_uri, Some(1));
        let latencies =
            type_and_delete(&mut client, &big_uri, &big, "req", crate::edits().min(200));
        summary(
            "keystrokes in a 5,000-line file, index off",
            latencies,
            Duration::ZERO,
        );
        client.shutdown_and_exit();
        return;
    }
    let built = client.try_wait_for(BUILD_TIMEOUT, &|m| {
        m["method"] == "$/progress"
            && m["params"]["value"]["kind"] == "end"
            && m["params"]["value"]["message"]
                .as_str()
                .is_some_and(|t| t.contains("indexed"))
    });
    let Some(built) = built else {
        println!("  the index did not finish building within {BUILD_TIMEOUT:?}");
        return;
    };
    println!(
        "  index build: {} wall ({}), server CPU so far {}",
        ms(started.elapsed()),
        built["params"]["value"]["message"],
        cpu_time(client.pid()).map_or_else(|| "n/a".into(), ms),
    );

    // Keystrokes in the open 5,000-line file, with the index on.
    client.open(&big_uri, "go", 1, &big);
    client.diagnostics(&big_uri, Some(1));
    let latencies = type_and_delete(&mut client, &big_uri, &big, "req", crate::edits().min(200));
    summary(
        "keystrokes in a 5,000-line file, index on",
        latencies,
        Duration::ZERO,
    );

    // The open callee edited: the open caller's DEL001 goes and comes back.
    let caller_uri = dir.uri("orders/checkout.go");
    let gateway_uri = dir.uri("billing/gateway.go");
    client.open(&caller_uri, "go", 1, CHECKOUT);
    client.wait_for("DEL001 in the caller", |m| caller_has(m, &caller_uri, true));
    client.open(&gateway_uri, "go", 1, GATEWAY);
    client.diagnostics(&gateway_uri, Some(1));
    let keyed = GATEWAY.replacen("\tresp, err :=", &format!("{KEY_LINE}\tresp, err :="), 1);
    let rounds = 20;
    // Alternately with and without the key: the caller's DEL001 goes, then comes back.
    let republished = |client: &mut LspClient, change: &dyn Fn(&mut LspClient, usize, bool)| {
        let mut times = Vec::with_capacity(rounds);
        for round in 0..rounds {
            let with_key = round % 2 == 0;
            client.drain();
            let sent = Instant::now();
            change(client, round, with_key);
            let arrived = client.try_wait_for(crate::lsp_client::TIMEOUT, &|m| {
                caller_has(m, &caller_uri, !with_key)
            });
            if arrived.is_none() {
                println!("  the caller was not republished after change {round}");
                break;
            }
            times.push(sent.elapsed());
        }
        times
    };
    let open_edits = republished(&mut client, &|client, round, with_key| {
        let text = if with_key { &keyed } else { GATEWAY };
        client.change(&gateway_uri, round as i64 + 2, json!([{ "text": text }]));
    });
    summary(
        "open callee edited → open caller republished",
        open_edits,
        REINDEX_AFTER,
    );
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": gateway_uri}}),
    );
    let disk_changes = republished(&mut client, &|client, _, with_key| {
        dir.write(
            "billing/gateway.go",
            if with_key { &keyed } else { GATEWAY },
        );
        client.notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": gateway_uri, "type": 2}]}),
        );
    });
    summary(
        "closed callee changed on disk → open caller republished",
        disk_changes,
        Duration::ZERO,
    );
    server_phases(&client.stderr());
    client.shutdown_and_exit();
}

/// The server's own account of each change of the callee (its `reindexed …` log lines): how long the new
/// summary and the link took, and how the link went; the rest of a republication is analysing the caller.
fn server_phases(log: &str) {
    let number_before = |line: &str, unit: &str| -> Option<u64> {
        let end = line.find(unit)?;
        let start = line[..end]
            .trim_end()
            .rfind(' ')
            .map_or(0, |space| space + 1);
        line[start..end].trim().parse().ok()
    };
    let (mut summarized, mut linked, mut partial) = (Vec::new(), Vec::new(), 0);
    for line in log.lines().filter(|l| l.contains("reindexed ")) {
        let Some((before, after)) = line.split_once(" µs, linked in ") else {
            continue;
        };
        if let (Some(s), Some(l)) = (
            number_before(&format!("{before} µs"), " µs"),
            number_before(after, " µs"),
        ) {
            summarized.push(Duration::from_micros(s));
            linked.push(Duration::from_micros(l));
            partial += usize::from(after.contains("call sites only"));
        }
    }
    if summarized.is_empty() {
        return;
    }
    let count = summarized.len();
    summarized.sort();
    linked.sort();
    println!(
        "  in the server, per change ({count}, {partial} linked by the changed file's call sites only): summary median {}, p99 {}; link median {}, p99 {}",
        ms(percentile(&summarized, 0.5)),
        ms(percentile(&summarized, 0.99)),
        ms(percentile(&linked, 0.5)),
        ms(percentile(&linked, 0.99)),
    );
}
