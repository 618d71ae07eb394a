//! The bundled sample service, examples/shop: its text, Markdown and SARIF reports are pinned, so that a change
//! in any rule's findings on realistic code shows up as a snapshot diff to review. The README's first command
//! scans it with `--fail-on none` (findings are the expected output there).

mod common;

use std::path::{Path, PathBuf};

use common::{run, scan};

fn shop() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/shop")
}

#[test]
fn text_report() {
    let out = scan(&shop(), "text", &["--fail-on", "none"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn markdown_review() {
    let out = scan(&shop(), "markdown", &["--fail-on", "none"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("an order is charged at most once"),
        "the [review] invariants head the review"
    );
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn sarif_report_is_valid() {
    let out = scan(&shop(), "sarif", &["--fail-on", "none"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif/sarif-schema-2.1.0.json"),
        )
        .expect("vendored schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let log: serde_json::Value = serde_json::from_str(&out.stdout).expect("SARIF is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    insta::assert_snapshot!(out.stdout);
}

/// Without `--fail-on none` the sample fails the default threshold: it has High findings.
#[test]
fn default_threshold_fails_on_the_sample() {
    assert_eq!(run(&shop(), &["check"]).code, 1);
}
