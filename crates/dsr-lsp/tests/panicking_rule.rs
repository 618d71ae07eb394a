//! A rule that panics, through the whole server (issue 7, item 4): the panic is caught and logged to the client
//! with the rule and the file, the other rules' diagnostics are published, the rule is not run again on the same
//! version of the text (a settings change re-analyses it), and it is run again after the next edit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dsr_core::{Finding, Registered, Rule, RuleMeta, TextRange};
use dsr_semantic::RegisteredRule;
use dsr_semantic::RuleContext;
use serde_json::{json, Value};

mod common;
use common::Client;

static RUNS: AtomicUsize = AtomicUsize::new(0);

dsr_core::declare_rule! {
    /// Test rule that panics on every file.
    pub struct Panics {
        code: "TST201",
        slug: "panics",
        family: Meta,
        languages: [Go],
        severity: Low,
        impact: Operability,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [],
    }
}

impl Rule<RuleContext<'_>> for Panics {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, _: &mut Vec<Finding>) {
        RUNS.fetch_add(1, Ordering::SeqCst);
        let bytes = ctx.source.as_bytes();
        // Out of bounds on purpose: the kind of bug a real rule could have.
        let _ = bytes[bytes.len() + usize::from(!bytes.is_empty())];
    }
}

dsr_core::declare_rule! {
    /// Test rule that reports the package clause.
    pub struct Reports {
        code: "TST202",
        slug: "reports",
        family: Meta,
        languages: [Go],
        severity: Medium,
        impact: Operability,
        kind: Finding,
        fix: Never,
        scope: Function,
        reads: [],
    }
}

impl Rule<RuleContext<'_>> for Reports {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        ctx.finding(&Self::META, TextRange::new(0, 7))
            .title("the package clause")
            .emit(sink);
    }
}

static REGISTRY: [RegisteredRule; 2] = [Registered::stable(&Panics), Registered::stable(&Reports)];

fn diagnostics_for(version: i64) -> impl Fn(&Value) -> bool {
    move |m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version
}

fn codes(message: &Value) -> Vec<String> {
    message["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_rule_is_logged_disabled_for_the_version_and_the_others_report() {
    let (mut client, server) = Client::start(&REGISTRY).await;
    let uri = "file:///nonexistent/dsr-panics/a.go";
    client
        .notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "go", "version": 1, "text": "package a\n"}}),
        )
        .await;
    let logged = client
        .wait(|m| {
            m["method"] == "window/logMessage"
                && m["params"]["message"]
                    .as_str()
                    .is_some_and(|t| t.contains("TST201"))
        })
        .await;
    let text = logged["params"]["message"].as_str().unwrap();
    assert!(
        text.contains("a.go") && text.contains("version 1") && text.contains("index out of bounds"),
        "{text}"
    );
    let published = client.wait(diagnostics_for(1)).await;
    assert_eq!(
        codes(&published),
        ["TST202"],
        "the other rule still reports"
    );
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);

    // New settings re-analyse every document; on the same version the failed rule is left out.
    client
        .notify(
            "workspace/didChangeConfiguration",
            json!({"settings": {"distsys-review": {"severity": {"medium": "error"}}}}),
        )
        .await;
    let republished = client.wait(diagnostics_for(1)).await;
    assert_eq!(republished["params"]["diagnostics"][0]["severity"], 1);
    assert_eq!(RUNS.load(Ordering::SeqCst), 1, "not run again on version 1");

    // The next version gets another chance.
    client
        .notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "package b\n"}]}),
        )
        .await;
    let next = client.wait(diagnostics_for(2)).await;
    assert_eq!(codes(&next), ["TST202"]);
    // Under load the budget guard may publish version 2's moved findings before the rules have run on it, so
    // the proof that the failed rule ran again is its second failure, logged for version 2.
    client
        .wait(|m| {
            m["method"] == "window/logMessage"
                && m["params"]["message"]
                    .as_str()
                    .is_some_and(|t| t.contains("TST201") && t.contains("version 2"))
        })
        .await;
    assert_eq!(RUNS.load(Ordering::SeqCst), 2, "run again on version 2");

    let id = client.request("shutdown", Value::Null).await;
    client.wait(|m| m["id"] == id).await;
    client.notify("exit", Value::Null).await;
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .unwrap()
            .unwrap(),
        0
    );
}
