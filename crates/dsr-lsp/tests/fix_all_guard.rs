//! The editor's fix-all (`source.fixAll.distsys-review`) goes through the engine's fix-all, so it refuses a fix
//! whose result would no longer parse, as `check --fix` does, and still applies the fixes that keep the parse.

use std::time::Duration;

use dsr_core::{Applicability, Edit, Finding, Fix, Registered, Rule, RuleMeta, TextRange};
use dsr_semantic::{RegisteredRule, RuleContext};
use serde_json::{json, Value};

mod common;
use common::Client;

dsr_core::declare_rule! {
    /// Test rule: every `old` becomes `new`.
    pub struct Rename {
        code: "TST301",
        slug: "rename",
        family: Meta,
        languages: [Go],
        severity: Medium,
        impact: Operability,
        kind: Finding,
        fix: Always,
        scope: Function,
        reads: [],
    }
}

impl Rule<RuleContext<'_>> for Rename {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        for (start, _) in ctx.source.match_indices("old") {
            let range = TextRange::new(start, start + 3);
            ctx.finding(&Self::META, range)
                .title("`old` is old")
                .fix(Fix::edits(
                    "rename",
                    Applicability::Always,
                    vec![Edit::replace(range, "new")],
                ))
                .emit(sink);
        }
    }
}

dsr_core::declare_rule! {
    /// Test rule whose "safe" fix breaks the syntax: `func` becomes `fun(`.
    pub struct Break {
        code: "TST302",
        slug: "break",
        family: Meta,
        languages: [Go],
        severity: Medium,
        impact: Operability,
        kind: Finding,
        fix: Always,
        scope: Function,
        reads: [],
    }
}

impl Rule<RuleContext<'_>> for Break {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>, sink: &mut Vec<Finding>) {
        if let Some(start) = ctx.source.find("func") {
            let range = TextRange::new(start, start + 4);
            ctx.finding(&Self::META, range)
                .title("breaks the parse")
                .fix(Fix::edits(
                    "break it",
                    Applicability::Always,
                    vec![Edit::replace(range, "fun(")],
                ))
                .emit(sink);
        }
    }
}

static REGISTRY: [RegisteredRule; 2] = [Registered::stable(&Rename), Registered::stable(&Break)];

/// Applies LSP text edits (UTF-16 positions; the test text is ASCII) to `text`.
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |position: &Value| -> usize {
        let line = usize::try_from(position["line"].as_u64().unwrap()).unwrap();
        let character = usize::try_from(position["character"].as_u64().unwrap()).unwrap();
        text.split_inclusive('\n')
            .take(line)
            .map(str::len)
            .sum::<usize>()
            + character
    };
    let mut spans: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|edit| {
            (
                offset(&edit["range"]["start"]),
                offset(&edit["range"]["end"]),
                edit["newText"].as_str().unwrap(),
            )
        })
        .collect();
    spans.sort_by_key(|span| std::cmp::Reverse(span.0));
    let mut out = text.to_string();
    for (start, end, new_text) in spans {
        out.replace_range(start..end, new_text);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_all_refuses_a_fix_that_breaks_the_parse_and_applies_the_others() {
    let (mut client, server) = Client::start(&REGISTRY).await;

    let uri = "file:///nonexistent/dsr-fix-all/a.go";
    let text = "package a\n\nvar old = 1\n\nfunc f() {}\n";
    client
        .notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "go", "version": 1, "text": text}}),
        )
        .await;
    let published = client
        .wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 1)
        .await;
    let mut codes: Vec<&str> = published["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    assert_eq!(codes, ["TST301", "TST302"], "both rules report");

    let id = client
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "context": {"diagnostics": [], "only": ["source.fixAll.distsys-review"]}
            }),
        )
        .await;
    let response = client.wait(|m| m["id"] == id).await;
    let actions = response["result"].as_array().expect("code actions");
    assert_eq!(actions.len(), 1, "{actions:?}");
    let action = &actions[0];
    assert_eq!(action["kind"], "source.fixAll.distsys-review");
    // Without resolve support the edit comes with the action.
    let edits = action["edit"]["changes"][uri]
        .as_array()
        .expect("the fix-all edit");
    assert_eq!(
        apply(text, edits),
        "package a\n\nvar new = 1\n\nfunc f() {}\n",
        "the rename applies; the fix that would break the parse is refused"
    );

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
