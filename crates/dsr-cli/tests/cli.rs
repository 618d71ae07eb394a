//! End-to-end tests of the `distsys-review` binary: every output format on a fixture tree (snapshots), exit
//! codes, configuration errors, skipped files, ignore files and excludes, `--fix`, `rules` and `explain`.

mod common;

use std::fs;
use std::path::Path;

use common::{fixture, run, scan};

/// A temporary tree with its own config, so that nothing above it (a config in /tmp) can change the result.
fn temp_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("distsys-review.toml"),
        "select = [\"BKP\", \"DSR\"]\n",
    )
    .unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

const UNBOUNDED_RS: &str =
    "fn start() {\n    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<u8>();\n}\n";
const BOUNDED_RS: &str =
    "fn start() {\n    let (tx, rx) = tokio::sync::mpsc::channel::<u8>(8);\n}\n";

mod snapshots {
    use super::*;

    #[test]
    fn text() {
        let out = scan(&fixture("tree"), "text", &[]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            !out.stdout.contains('\x1b'),
            "no colour when not on a terminal"
        );
        insta::assert_snapshot!(out.stdout);
    }

    #[test]
    fn markdown() {
        let out = scan(&fixture("tree"), "markdown", &[]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        insta::assert_snapshot!(out.stdout);
    }

    #[test]
    fn json() {
        let out = scan(&fixture("tree"), "json", &[]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        insta::assert_snapshot!(out.stdout);
    }

    #[test]
    fn sarif() {
        let out = scan(&fixture("tree"), "sarif", &[]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        insta::assert_snapshot!(out.stdout);
    }

    #[test]
    fn sarif_is_valid_against_the_official_schema() {
        let out = scan(&fixture("tree"), "sarif", &[]);
        let schema: serde_json::Value = serde_json::from_str(
            &fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif/sarif-schema-2.1.0.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let log: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

mod exit_codes {
    use super::*;

    #[test]
    fn medium_findings_fail_by_default_and_thresholds_move_it() {
        let tree = fixture("tree");
        assert_eq!(run(&tree, &["check"]).code, 1);
        assert_eq!(run(&tree, &["check", "--fail-on", "medium"]).code, 1);
        assert_eq!(run(&tree, &["check", "--fail-on", "high"]).code, 0);
        assert_eq!(run(&tree, &["check", "--fail-on", "critical"]).code, 0);
        assert_eq!(run(&tree, &["check", "--fail-on", "none"]).code, 0);
    }

    #[test]
    fn low_findings_fail_only_when_asked() {
        let tree = fixture("tree");
        let out = run(&tree, &["check", "--select", "DSR"]);
        assert_eq!(out.code, 0, "{}", out.stdout);
        // DSR001 is not reported for suppressions of rules that are not running.
        assert!(
            out.stdout.ends_with("1 finding (1 low) in 7 files\n"),
            "{}",
            out.stdout
        );
        assert_eq!(
            run(&tree, &["check", "--select", "DSR", "--fail-on", "low"]).code,
            1
        );
    }

    #[test]
    fn a_clean_path_exits_zero_with_the_discovered_config() {
        let tree = fixture("tree");
        let out = run(
            &tree,
            &[
                "check",
                "services/dispatch/bounded.go",
                "services/worker/src/clean.rs",
            ],
        );
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        assert_eq!(out.stdout, "no findings in 2 files\n");
        // From elsewhere, the config is found above the first path.
        let out = run(tree.parent().unwrap(), &["check", "tree/services/dispatch"]);
        assert_eq!(out.code, 1);
        assert!(
            out.stdout
                .contains("services/dispatch/dispatcher.go:11:4: BKP001"),
            "{}",
            out.stdout
        );
    }

    #[test]
    fn ignore_narrows_the_selection() {
        let out = run(
            &fixture("tree"),
            &["check", "--ignore", "BKP001", "--fail-on", "low"],
        );
        assert_eq!(out.code, 1);
        assert!(!out.stdout.contains("BKP001 ["), "{}", out.stdout);
        let out = run(
            &fixture("tree"),
            &["check", "--ignore", "BKP,DSR", "--fail-on", "low"],
        );
        assert_eq!(out.code, 0, "{}", out.stdout);
    }

    #[test]
    fn usage_errors_exit_two() {
        let tree = fixture("tree");
        let out = run(&tree, &["check", "--select", "NOPE1"]);
        assert_eq!(out.code, 2);
        assert_eq!(
            out.stderr,
            "error: --select: unknown rule or family `NOPE1` (see `distsys-review rules`)\n"
        );
        assert_eq!(run(&tree, &["check", "--format", "xml"]).code, 2);
        assert_eq!(run(&tree, &["check", "--unsafe-fixes"]).code, 2);
        assert_eq!(run(&tree, &["check", "--max-file-size", "2X"]).code, 2);
        let out = run(&tree, &["check", "does/not/exist"]);
        assert_eq!(out.code, 2);
        assert_eq!(
            out.stderr,
            "error: does/not/exist: no such file or directory\n"
        );
        assert_eq!(run(&tree, &["frobnicate"]).code, 2);
    }
}

mod config_errors {
    use super::*;

    fn check_with_config(config: &str) -> common::Output {
        let dir = temp_tree(&[("a.rs", BOUNDED_RS)]);
        fs::write(dir.path().join("distsys-review.toml"), config).unwrap();
        run(dir.path(), &["check"])
    }

    #[test]
    fn bad_values_name_file_line_and_column() {
        let out = check_with_config("select = [\"BKP\"]\n\n[severity]\nBKP001 = \"urgent\"\n");
        assert_eq!(out.code, 2);
        assert_eq!(
            out.stderr,
            "error: distsys-review.toml:4:10: invalid severity `urgent` for BKP001: expected critical, high, medium or low\n"
        );
        assert_eq!(out.stdout, "");
    }

    #[test]
    fn unknown_keys_and_rules_are_errors() {
        let out = check_with_config("selct = [\"BKP\"]\n");
        assert_eq!(out.code, 2);
        assert!(
            out.stderr
                .starts_with("error: distsys-review.toml:1:1: unknown field `selct`"),
            "{}",
            out.stderr
        );
        let out = check_with_config("ignore = [\"XYZ9\"]\n");
        assert_eq!(out.code, 2);
        assert!(
            out.stderr
                .starts_with("error: distsys-review.toml:1:11: unknown rule or family `XYZ9`"),
            "{}",
            out.stderr
        );
    }

    #[test]
    fn an_explicit_config_must_exist_and_is_used() {
        let dir = temp_tree(&[("src/a.rs", UNBOUNDED_RS)]);
        let out = run(dir.path(), &["check", "--config", "missing.toml"]);
        assert_eq!(out.code, 2);
        assert!(
            out.stderr.starts_with("error: missing.toml: cannot read:"),
            "{}",
            out.stderr
        );
        fs::write(dir.path().join("other.toml"), "ignore = [\"BKP001\"]\n").unwrap();
        let out = run(dir.path(), &["check", "--config", "other.toml"]);
        assert_eq!(out.code, 0, "{}", out.stdout);
    }
}

mod walking {
    use super::*;

    #[test]
    fn gitignore_hidden_files_and_excludes_are_respected() {
        let dir = temp_tree(&[
            (".gitignore", "ignored/\n"),
            ("ignored/a.rs", UNBOUNDED_RS),
            (".hidden/a.rs", UNBOUNDED_RS),
            ("vendor/lib/a.rs", UNBOUNDED_RS),
            ("src/a.rs", UNBOUNDED_RS),
        ]);
        fs::write(
            dir.path().join("distsys-review.toml"),
            "select = [\"BKP\", \"DSR\"]\nexclude = [\"vendor/**\"]\n",
        )
        .unwrap();
        let out = run(dir.path(), &["check"]);
        assert_eq!(out.code, 1);
        assert!(
            out.stdout.contains("src/a.rs:2:20: BKP001"),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.ends_with("1 finding (1 medium) in 1 file\n"),
            "{}",
            out.stdout
        );
        // A file named explicitly is checked even if ignored; `exclude` still applies to it.
        let out = run(dir.path(), &["check", "ignored/a.rs", "vendor/lib/a.rs"]);
        assert!(
            out.stdout.contains("ignored/a.rs:2:20: BKP001"),
            "{}",
            out.stdout
        );
        assert!(!out.stdout.contains("vendor"), "{}", out.stdout);
    }

    #[test]
    fn paths_outside_the_root_are_shown_absolute_and_overlaps_once() {
        let dir = temp_tree(&[("src/a.rs", UNBOUNDED_RS)]);
        let out = run(dir.path(), &["check", "src", "src/a.rs", "."]);
        assert_eq!(
            out.stdout.matches("BKP001 [Medium]").count(),
            1,
            "{}",
            out.stdout
        );
    }
}

mod skipped_files {
    use super::*;

    #[test]
    fn unusable_files_are_skipped_with_one_warning_each() {
        let dir = temp_tree(&[
            ("src/a.rs", UNBOUNDED_RS),
            ("src/empty.go", ""),
            ("src/latin1.go", "package a\n// caf\u{e9}\n"),
            (
                "src/big.go",
                &format!("package a\n{}", "// padding\n".repeat(200)),
            ),
        ]);
        let src = dir.path().join("src");
        fs::write(src.join("binary.rs"), b"fn main() {}\0\x01\x02").unwrap();
        fs::write(src.join("latin1.go"), b"package a\n// caf\xe9\n").unwrap();
        std::os::unix::fs::symlink(src.join("missing.rs"), src.join("gone.rs")).unwrap();
        let out = run(dir.path(), &["check", "--max-file-size", "1k"]);
        let mut warnings: Vec<&str> = out.stderr.lines().collect();
        warnings.sort_unstable();
        assert_eq!(
            warnings,
            [
                "warning: src/big.go: 2.2 kB is over the size limit of 1.0 kB (--max-file-size, or `max-file-size` under [limits]); skipped",
                "warning: src/binary.rs: binary file (NUL byte at offset 12); skipped",
                "warning: src/empty.go: empty file; skipped",
                "warning: src/gone.rs: cannot read: No such file or directory (os error 2) (broken symbolic link); skipped",
                "warning: src/latin1.go: not valid UTF-8 (invalid byte at offset 16, line 2); skipped",
            ]
        );
        // The rest is still scanned, and skipping does not change the exit code.
        assert_eq!(out.code, 1);
        assert!(
            out.stdout
                .ends_with("1 finding (1 medium) in 1 file; 5 skipped\n"),
            "{}",
            out.stdout
        );
        let clean = run(
            dir.path(),
            &["check", "--max-file-size", "1k", "--select", "DSR"],
        );
        assert_eq!(clean.code, 0, "{}", clean.stdout);
    }

    #[test]
    fn the_default_size_limit_is_two_megabytes() {
        let big = format!(
            "package a\n{}",
            "// padding padding padding padding\n".repeat(60_000)
        );
        assert!(big.len() > 2_000_000);
        let dir = temp_tree(&[("big.go", &big), ("a.rs", UNBOUNDED_RS)]);
        let out = run(dir.path(), &["check"]);
        assert_eq!(
            out.stderr,
            "warning: big.go: 2.1 MB is over the size limit of 2.0 MB (--max-file-size, or `max-file-size` under [limits]); skipped\n"
        );
        assert_eq!(out.code, 1);
    }

    /// `chmod 000` blocks reading only for unprivileged users: as root (CI, containers) the file is readable
    /// and scanned, which the test checks instead; the broken symlink above covers "cannot read" everywhere.
    #[test]
    fn unreadable_files_and_directories() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_tree(&[("locked.rs", UNBOUNDED_RS), ("closed/a.rs", UNBOUNDED_RS)]);
        let locked = dir.path().join("locked.rs");
        let closed = dir.path().join("closed");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        fs::set_permissions(&closed, fs::Permissions::from_mode(0o000)).unwrap();
        let privileged = fs::read(&locked).is_ok();
        let out = run(dir.path(), &["check"]);
        fs::set_permissions(&closed, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).unwrap();
        if privileged {
            assert_eq!(out.stderr, "");
            assert_eq!(
                out.stdout.matches("BKP001 [Medium]").count(),
                2,
                "{}",
                out.stdout
            );
        } else {
            assert!(
                out.stderr
                    .contains("warning: locked.rs: cannot read: Permission denied"),
                "{}",
                out.stderr
            );
            assert!(out.stderr.contains("closed"), "{}", out.stderr);
            assert_eq!(out.code, 0);
        }
    }
}

mod fixing {
    use super::*;

    const STALE: &str = "fn start() {\n    // distsys-review: ignore[BKP001] was unbounded before\n    let (tx, rx) = tokio::sync::mpsc::channel::<u8>(8);\n    let (a, b) = tokio::sync::mpsc::unbounded_channel::<u8>();\n}\n";

    #[test]
    fn fix_applies_safe_fixes_and_reports_what_remains() {
        let dir = temp_tree(&[("a.rs", STALE)]);
        let before = run(dir.path(), &["check", "--fail-on", "low"]);
        assert!(before.stdout.contains("DSR001 [Low]"), "{}", before.stdout);
        let out = run(dir.path(), &["check", "--fix", "--fail-on", "low"]);
        assert_eq!(out.stderr, "fixed 1 finding in 1 file (1 remaining)\n");
        assert_eq!(
            fs::read_to_string(dir.path().join("a.rs")).unwrap(),
            "fn start() {\n    let (tx, rx) = tokio::sync::mpsc::channel::<u8>(8);\n    let (a, b) = tokio::sync::mpsc::unbounded_channel::<u8>();\n}\n"
        );
        // The report is of the fixed text: the unbounded channel moved up a line.
        assert!(out.stdout.contains("a.rs:3:18: BKP001"), "{}", out.stdout);
        assert!(!out.stdout.contains("DSR001"), "{}", out.stdout);
        assert!(out.stdout.ends_with("; 1 fix applied\n"), "{}", out.stdout);
        assert_eq!(out.code, 1);
        // Nothing left to fix: the file is not rewritten.
        let again = run(dir.path(), &["check", "--fix"]);
        assert_eq!(again.stderr, "fixed 0 findings in 0 files (1 remaining)\n");
    }

    #[test]
    fn without_fix_nothing_is_written() {
        let dir = temp_tree(&[("a.rs", STALE)]);
        run(dir.path(), &["check"]);
        assert_eq!(fs::read_to_string(dir.path().join("a.rs")).unwrap(), STALE);
    }
}

mod output_options {
    use super::*;

    #[test]
    fn output_file_and_timings() {
        let dir = temp_tree(&[("a.rs", UNBOUNDED_RS), ("b.go", "package b\n")]);
        let out = run(
            dir.path(),
            &[
                "check",
                "--format",
                "json",
                "--output",
                "report.json",
                "--timings",
                "--jobs",
                "1",
            ],
        );
        assert_eq!(out.code, 1);
        assert_eq!(out.stdout, "");
        let report: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(dir.path().join("report.json")).unwrap())
                .unwrap();
        assert_eq!(report["summary"]["findings"], 1);
        assert!(
            out.stderr.starts_with("timings (1 job): 2 files"),
            "{}",
            out.stderr
        );
        for phase in ["parse only", "analysis", "MB/s", "Rust", "Go"] {
            assert!(out.stderr.contains(phase), "{phase}: {}", out.stderr);
        }
    }

    #[test]
    fn colour_can_be_forced() {
        let dir = temp_tree(&[("a.rs", UNBOUNDED_RS)]);
        let out = run(dir.path(), &["check", "--color", "always"]);
        assert!(out.stdout.contains("\x1b["), "{}", out.stdout);
    }

    #[test]
    fn json_positions_are_one_based_with_byte_offsets() {
        let dir = temp_tree(&[("a.rs", &format!("// ünïcödé\n{UNBOUNDED_RS}"))]);
        let out = run(dir.path(), &["check", "--format", "json"]);
        let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let finding = &report["findings"][0];
        assert_eq!(report["version"], 1);
        assert_eq!(finding["path"], "a.rs");
        assert_eq!(finding["range"]["start"]["line"], 3);
        assert_eq!(finding["range"]["start"]["column"], 20);
        let offset = finding["range"]["start"]["offset"].as_u64().unwrap() as usize;
        let text = fs::read_to_string(dir.path().join("a.rs")).unwrap();
        assert!(text[offset..].starts_with("tokio::sync::mpsc::unbounded_channel"));
        assert!(
            !out.stdout.contains(&*dir.path().to_string_lossy()),
            "no absolute paths in JSON"
        );
    }
}

mod catalog {
    use super::*;

    #[test]
    fn rules_lists_every_rule() {
        let out = run(Path::new(env!("CARGO_MANIFEST_DIR")), &["rules"]);
        assert_eq!(out.code, 0);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert!(lines[0].starts_with("CODE"), "{}", out.stdout);
        for code in dsr_rules_codes() {
            assert!(
                lines.iter().any(|l| l.starts_with(&code)),
                "{code} missing:\n{}",
                out.stdout
            );
        }
        let bkp001 = lines.iter().find(|l| l.starts_with("BKP001")).unwrap();
        assert!(
            bkp001.split_whitespace().eq(
                "BKP001 unbounded-channel backpressure medium Rust, Go A queue"
                    .split(' ')
                    .chain(bkp001.split_whitespace().skip(8))
            ),
            "{bkp001}"
        );
    }

    /// The codes, from the rule docs index the rules crate keeps up to date.
    fn dsr_rules_codes() -> Vec<String> {
        let index = fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules/README.md"),
        )
        .unwrap();
        index
            .lines()
            .filter_map(|l| l.strip_prefix("| ["))
            .filter_map(|l| l.split(']').next())
            .map(String::from)
            .collect()
    }

    #[test]
    fn explain_prints_the_rule_page_by_code_or_name() {
        let page = fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules/BKP001.md"),
        )
        .unwrap();
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        for name in ["BKP001", "bkp001", "unbounded-channel"] {
            let out = run(here, &["explain", name]);
            assert_eq!(out.code, 0);
            assert_eq!(out.stdout, page);
        }
        let out = run(here, &["explain", "XYZ999"]);
        assert_eq!(out.code, 2);
        assert_eq!(
            out.stderr,
            "error: unknown rule `XYZ999` (see `distsys-review rules`)\n"
        );
    }
}

/// `--diff`, `--write-baseline` and `--baseline`: reviewing only what is new.
mod only_new_findings {
    use super::*;
    use std::io::Write as _;
    use std::process::Stdio;

    /// (path, first line) of every finding in a JSON report.
    fn reported(stdout: &str) -> Vec<(String, u64)> {
        let report: serde_json::Value = serde_json::from_str(stdout).expect("a JSON report");
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap_or_default().to_string(),
                    f["range"]["start"]["line"].as_u64().unwrap_or_default(),
                )
            })
            .collect()
    }

    const TWO_CHANNELS: &str = "fn start() {\n    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<u8>();\n}\n\nfn other() {\n    let (a, b) = tokio::sync::mpsc::unbounded_channel::<u16>();\n}\n";

    #[test]
    fn a_moved_finding_stays_hidden_and_a_new_one_is_reported() {
        let dir = temp_tree(&[("src/queue.rs", UNBOUNDED_RS)]);
        let out = run(dir.path(), &["check", "--write-baseline", "baseline.json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stderr.contains("recorded 1 finding"), "{}", out.stderr);
        let written = fs::read_to_string(dir.path().join("baseline.json")).unwrap();
        assert!(written.contains("\"version\": 1"), "{written}");

        // Lines added above the known finding move it; a second channel is new.
        let moved = format!("// a comment\n\n{UNBOUNDED_RS}\nfn other() {{\n    let (a, b) = tokio::sync::mpsc::unbounded_channel::<u16>();\n}}\n");
        fs::write(dir.path().join("src/queue.rs"), moved).unwrap();
        let out = run(
            dir.path(),
            &["check", "--format", "json", "--baseline", "baseline.json"],
        );
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_eq!(reported(&out.stdout), [("src/queue.rs".to_string(), 8)]);
        assert!(
            out.stderr.contains("1 finding already in the baseline"),
            "{}",
            out.stderr
        );
    }

    #[test]
    fn a_broken_baseline_is_an_error() {
        let dir = temp_tree(&[("src/queue.rs", UNBOUNDED_RS)]);
        fs::write(
            dir.path().join("baseline.json"),
            "{\"version\": 1, \"findings\": [",
        )
        .unwrap();
        let out = run(dir.path(), &["check", "--baseline", "baseline.json"]);
        assert_eq!(out.code, 2);
        assert!(
            out.stderr.contains("baseline.json: not a baseline"),
            "{}",
            out.stderr
        );
        let out = run(dir.path(), &["check", "--baseline", "missing.json"]);
        assert_eq!(out.code, 2);
        assert!(
            out.stderr.contains("cannot read the baseline"),
            "{}",
            out.stderr
        );
    }

    #[test]
    fn a_diff_keeps_only_findings_on_changed_lines() {
        let dir = temp_tree(&[("src/queue.rs", TWO_CHANNELS), ("src/old.rs", UNBOUNDED_RS)]);
        // As `git diff -U0` prints it: line 6 of src/queue.rs was changed.
        let diff = "diff --git a/src/queue.rs b/src/queue.rs\n--- a/src/queue.rs\n+++ b/src/queue.rs\n@@ -6 +6 @@\n-    let (a, b) = tokio::sync::mpsc::channel::<u16>(8);\n+    let (a, b) = tokio::sync::mpsc::unbounded_channel::<u16>();\n";
        fs::write(dir.path().join("change.diff"), diff).unwrap();
        let out = run(
            dir.path(),
            &["check", "--format", "json", "--diff", "change.diff"],
        );
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_eq!(reported(&out.stdout), [("src/queue.rs".to_string(), 6)]);
        assert!(
            out.stderr.contains("2 findings outside the lines"),
            "{}",
            out.stderr
        );

        // The same from standard input.
        let mut child = std::process::Command::new(common::binary())
            .args(["check", "--format", "json", "--diff", "-"])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(diff.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(reported(&stdout), [("src/queue.rs".to_string(), 6)]);
    }
}

/// The workspace index: a retry loop around a helper of another package that POSTs is reported, with evidence
/// in the helper's file; `--no-index` analyses each file alone and does not see it; and the result cache
/// re-analyses the caller when only the helper changed.
#[test]
fn the_index_sees_through_calls_into_other_files_and_no_index_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("distsys-review.toml", "select = [\"DEL001\"]\n"),
        ("go.mod", "module example.com/shop\n"),
        (
            "billing/gateway.go",
            "package billing\n\nimport \"net/http\"\n\nfunc Capture(url string) error {\n\treq, _ := http.NewRequest(http.MethodPost, url, nil)\n\tresp, err := http.DefaultClient.Do(req)\n\tif err != nil {\n\t\treturn err\n\t}\n\treturn resp.Body.Close()\n}\n",
        ),
        (
            "orders/checkout.go",
            "package orders\n\nimport (\n\t\"time\"\n\n\t\"example.com/shop/billing\"\n)\n\nfunc Checkout(url string) error {\n\tfor attempt := 0; attempt < 3; attempt++ {\n\t\tif err := billing.Capture(url); err == nil {\n\t\t\treturn nil\n\t\t}\n\t\ttime.Sleep(time.Duration(1<<attempt) * time.Second)\n\t}\n\treturn nil\n}\n",
        ),
    ];
    for (path, text) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    let out = run(
        dir.path(),
        &["check", "--format", "json", "--fail-on", "none"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let findings = json["findings"].as_array().expect("a findings list");
    assert_eq!(findings.len(), 1, "{}", out.stdout);
    assert_eq!(findings[0]["rule"], "DEL001");
    assert!(
        findings[0]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"] == "billing/gateway.go"),
        "{}",
        out.stdout
    );
    let alone = run(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--fail-on",
            "none",
            "--no-index",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&alone.stdout).unwrap();
    assert_eq!(
        json["findings"].as_array().map(Vec::len),
        Some(0),
        "{}",
        alone.stdout
    );

    // The result cache: the caller's text is unchanged, but its finding rested on the helper, which now sends an
    // idempotency key; a cached entry keyed on the caller's text alone would report it still.
    let gateway = dir.path().join("billing/gateway.go");
    let helper = fs::read_to_string(&gateway).unwrap();
    let keyed = helper.replace(
        "\tresp, err :=",
        "\treq.Header.Set(\"Idempotency-Key\", url)\n\tresp, err :=",
    );
    assert_ne!(helper, keyed);
    fs::write(&gateway, keyed).unwrap();
    let count = |out: &common::Output| {
        let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        json["findings"].as_array().map(Vec::len)
    };
    let args = ["check", "--format", "json", "--fail-on", "none"];
    assert_eq!(count(&run(dir.path(), &args)), Some(0));
    fs::write(&gateway, helper).unwrap();
    assert_eq!(count(&run(dir.path(), &args)), Some(1));
}

/// Runs the binary under a pseudo-terminal (util-linux `script`), so that stderr is a terminal; `None` when
/// `script` is missing (the test then says so and checks the rest).
fn run_on_terminal(dir: &std::path::Path, args: &str) -> Option<String> {
    let command = format!("{} {args}", common::binary().display());
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        // `script` copies its stdin to the terminal; a closed one ends it early, /dev/null does not.
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// On a terminal a long scan shows a progress bar and ends with the rate; `--quiet` and a non-terminal stderr
/// show neither.
#[test]
fn progress_and_rate_only_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..250 {
        std::fs::write(
            dir.path().join(format!("f{i:03}.go")),
            format!("package p\n\nfunc F{i}() int {{ return {i} }}\n"),
        )
        .unwrap();
    }
    let piped = common::run(dir.path(), &["check", "--fail-on", "none"]);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert!(!piped.stderr.contains("files/s"), "{}", piped.stderr);
    assert!(!piped.stderr.contains("checking"), "{}", piped.stderr);
    let Some(terminal) = run_on_terminal(dir.path(), "check --fail-on none") else {
        eprintln!("`script` is not installed: the terminal half of this test did not run");
        return;
    };
    assert!(terminal.contains("checking"), "no progress bar: {terminal}");
    assert!(terminal.contains("checked 250 files in "), "{terminal}");
    assert!(terminal.contains(" files/s)"), "{terminal}");
    let quiet = run_on_terminal(dir.path(), "check --fail-on none --quiet").unwrap();
    assert!(
        !quiet.contains("files/s") && !quiet.contains("checking"),
        "{quiet}"
    );
    assert!(quiet.contains("no findings in 250 files"), "{quiet}");
}

mod result_cache {
    use super::*;

    const CACHE: &str = ".distsys-review-cache";

    fn bucket(dir: &Path) -> std::path::PathBuf {
        let buckets: Vec<_> = fs::read_dir(dir.join(CACHE).join("v2"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        assert_eq!(buckets.len(), 1, "{buckets:?}");
        buckets[0].clone()
    }

    #[test]
    fn a_rescan_takes_findings_from_the_cache_until_the_file_or_config_changes() {
        let dir = temp_tree(&[("a.rs", UNBOUNDED_RS), ("b.rs", BOUNDED_RS)]);
        // Every kind of setting, so that the configuration's key is shown to be the same from run to run.
        fs::write(
            dir.path().join("distsys-review.toml"),
            "select = [\"BKP\", \"DSR\"]\nexclude = [\"vendor/**\", \"*.gen.rs\"]\n[severity]\nBKP002 = \"low\"\n",
        )
        .unwrap();
        let cold = run(dir.path(), &["check", "--format", "json"]);
        assert_eq!(cold.code, 1, "{}", cold.stderr);
        assert!(dir.path().join(CACHE).join("CACHEDIR.TAG").is_file());
        let warm = run(dir.path(), &["check", "--format", "json"]);
        assert_eq!(warm.stdout, cold.stdout, "the same report from the cache");
        assert_eq!(warm.code, cold.code);

        // Proof that the second run read the cache: what the cache says is what is reported.
        let bucket = bucket(dir.path());
        let text = fs::read_to_string(&bucket).unwrap();
        assert!(text.contains("unbounded"), "{text}");
        fs::write(&bucket, text.replace("unbounded", "UNBOUNDED-FROM-CACHE")).unwrap();
        let hit = run(dir.path(), &["check", "--format", "json"]);
        assert!(
            hit.stdout.contains("UNBOUNDED-FROM-CACHE"),
            "{}",
            hit.stdout
        );
        // `--no-cache` analyses.
        let fresh = run(dir.path(), &["check", "--format", "json", "--no-cache"]);
        assert_eq!(fresh.stdout, cold.stdout);

        // A changed file is analysed again; the other still comes from the cache.
        fs::write(dir.path().join("a.rs"), format!("{UNBOUNDED_RS}\n")).unwrap();
        let changed = run(dir.path(), &["check", "--format", "json"]);
        assert!(
            !changed.stdout.contains("UNBOUNDED-FROM-CACHE"),
            "{}",
            changed.stdout
        );

        // A changed configuration starts another bucket.
        fs::write(
            &bucket,
            fs::read_to_string(&bucket)
                .unwrap()
                .replace("unbounded", "STALE"),
        )
        .unwrap();
        fs::write(
            dir.path().join("distsys-review.toml"),
            "select = [\"BKP\", \"DSR\"]\nexclude = [\"vendor/**\", \"*.gen.rs\"]\n[severity]\nBKP001 = \"high\"\n",
        )
        .unwrap();
        let reconfigured = run(dir.path(), &["check", "--format", "json"]);
        assert!(
            !reconfigured.stdout.contains("STALE"),
            "{}",
            reconfigured.stdout
        );
        assert!(
            reconfigured.stdout.contains("\"high\""),
            "{}",
            reconfigured.stdout
        );
    }

    /// What a run did, as `check` logs it at the info level: the report, how many files were analysed and
    /// taken from the cache, and how many of the index's summaries were made (`None`: no index was built).
    struct Sources {
        report: String,
        analysed: usize,
        from_cache: usize,
        summaries_made: Option<usize>,
    }

    fn sources(dir: &Path) -> Sources {
        let output = std::process::Command::new(common::binary())
            .args(["check", "--format", "json", "--fail-on", "none"])
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env("DSR_LOG", "dsr_cli=info")
            .output()
            .unwrap();
        // Without the terminal's colour codes, if any.
        let mut stderr = String::new();
        let mut escape = false;
        for c in String::from_utf8(output.stderr).unwrap().chars() {
            match (escape, c) {
                (false, '\u{1b}') => escape = true,
                (true, 'm') => escape = false,
                (false, c) => stderr.push(c),
                _ => {}
            }
        }
        let count = |line: &str, field: &str| -> Option<usize> {
            let line = stderr.lines().find(|l| l.contains(line))?;
            let at = line.find(&format!("{field}="))?;
            line[at + field.len() + 1..]
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
        };
        let analysed = count("files analysed", "analysed");
        Sources {
            report: String::from_utf8(output.stdout).unwrap(),
            analysed: analysed.unwrap_or_else(|| panic!("no count in {stderr}")),
            from_cache: count("files analysed", "from_cache").unwrap_or_default(),
            summaries_made: count("workspace index summaries", "summaries_made"),
        }
    }

    /// The same report as a run without the cache.
    fn fresh(dir: &Path) -> String {
        run(
            dir,
            &[
                "check",
                "--format",
                "json",
                "--fail-on",
                "none",
                "--no-cache",
            ],
        )
        .stdout
    }

    const GATEWAY_GO: &str = "package billing\n\nimport \"net/http\"\n\nfunc Capture(url string) error {\n\treq, _ := http.NewRequest(http.MethodPost, url, nil)\n\tresp, err := http.DefaultClient.Do(req)\n\tif err != nil {\n\t\treturn err\n\t}\n\treturn resp.Body.Close()\n}\n";

    fn shop() -> tempfile::TempDir {
        temp_tree(&[
            ("distsys-review.toml", "select = [\"DEL001\"]\n"),
            ("go.mod", "module example.com/shop\n"),
            ("billing/gateway.go", GATEWAY_GO),
            (
                "orders/checkout.go",
                "package orders\n\nimport (\n\t\"time\"\n\n\t\"example.com/shop/billing\"\n)\n\nfunc Checkout(url string) error {\n\tfor attempt := 0; attempt < 3; attempt++ {\n\t\tif err := billing.Capture(url); err == nil {\n\t\t\treturn nil\n\t\t}\n\t\ttime.Sleep(time.Duration(1<<attempt) * time.Second)\n\t}\n\treturn nil\n}\n",
            ),
            (
                "stock/levels.go",
                "package stock\n\nfunc Level(counts map[string]int, sku string) int {\n\treturn counts[sku]\n}\n",
            ),
        ])
    }

    /// Makes the helper's POST carry an idempotency key: the caller's retry finding goes.
    fn change_the_helper(dir: &Path) {
        fs::write(
            dir.join("billing/gateway.go"),
            GATEWAY_GO.replace(
                "\tresp, err :=",
                "\treq.Header.Set(\"Idempotency-Key\", url)\n\tresp, err :=",
            ),
        )
        .unwrap();
    }

    fn change_the_leaf(dir: &Path) {
        fs::write(
            dir.join("stock/levels.go"),
            "package stock\n\n// Level is how many are left.\nfunc Level(counts map[string]int, sku string) int {\n\treturn counts[sku]\n}\n",
        )
        .unwrap();
    }

    /// With the workspace index, a change to a helper re-analyses the helper and its caller (whose findings
    /// read what the helper does through the index) and takes the unrelated file from the cache; a change to a
    /// leaf re-analyses the leaf alone. Either way only the changed file is summarized again (parsed for the
    /// index), and the report is the one a run without the cache gives.
    #[test]
    fn a_changed_callee_reanalyses_its_caller_and_not_an_unrelated_file() {
        let dir = shop();
        let cold = sources(dir.path());
        assert_eq!(
            (cold.analysed, cold.from_cache, cold.summaries_made),
            (3, 0, Some(3))
        );
        assert!(cold.report.contains("DEL001"), "{}", cold.report);
        assert_eq!(cold.report, fresh(dir.path()));
        // Unchanged: everything from the cache, without building the index.
        let warm = sources(dir.path());
        assert_eq!(
            (warm.analysed, warm.from_cache, warm.summaries_made),
            (0, 3, None)
        );
        assert_eq!(warm.report, cold.report);

        change_the_helper(dir.path());
        let helper = sources(dir.path());
        assert_eq!(
            (helper.analysed, helper.from_cache, helper.summaries_made),
            (2, 1, Some(1))
        );
        assert!(!helper.report.contains("DEL001"), "{}", helper.report);
        assert_eq!(helper.report, fresh(dir.path()));

        // A leaf (nothing calls it, it calls nothing of the workspace): only it is analysed.
        change_the_leaf(dir.path());
        let leaf = sources(dir.path());
        assert_eq!(
            (leaf.analysed, leaf.from_cache, leaf.summaries_made),
            (1, 2, Some(1))
        );
        assert_eq!(leaf.report, fresh(dir.path()));
        let warm = sources(dir.path());
        assert_eq!(
            (warm.analysed, warm.from_cache, warm.summaries_made),
            (0, 3, None)
        );
    }

    /// The module path in `go.mod` names every package of the workspace: changed alone (no source file touched),
    /// the caller's import of the helper no longer names it, and the retry finding that rested on the helper
    /// goes; changed back, it returns. Either way the report is the one a run without the cache gives: the
    /// workspace's fingerprint holds where each file sits, not only its path and text.
    #[test]
    fn a_changed_module_path_rebuilds_the_index() {
        let dir = shop();
        let cold = sources(dir.path());
        assert!(cold.report.contains("DEL001"), "{}", cold.report);
        let manifest = dir.path().join("go.mod");
        fs::write(&manifest, "module example.com/store\n").unwrap();
        let renamed = sources(dir.path());
        assert!(renamed.summaries_made.is_some(), "the index is built again");
        assert!(!renamed.report.contains("DEL001"), "{}", renamed.report);
        assert_eq!(renamed.report, fresh(dir.path()));
        fs::write(&manifest, "module example.com/shop\n").unwrap();
        let back = sources(dir.path());
        assert!(back.report.contains("DEL001"), "{}", back.report);
        assert_eq!(back.report, fresh(dir.path()));
    }

    /// Kept summaries that cannot be read (cut short, not JSON, empty) are made again and rewritten: the report
    /// is the one a run without the cache gives.
    #[test]
    fn damaged_summaries_are_made_again_and_rewritten() {
        let dir = shop();
        sources(dir.path());
        let kept: Vec<_> = fs::read_dir(dir.path().join(CACHE).join("v2"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "files"))
            .flat_map(|d| fs::read_dir(d).unwrap().flatten().map(|e| e.path()))
            .filter(|p| !p.to_string_lossy().ends_with(".reads.json"))
            .collect();
        assert_eq!(kept.len(), 3, "{kept:?}");
        for (n, path) in kept.iter().enumerate() {
            let good = fs::read(path).unwrap();
            let damaged = match n % 3 {
                0 => good[..good.len() / 2].to_vec(),
                1 => b"not json".to_vec(),
                _ => Vec::new(),
            };
            fs::write(path, damaged).unwrap();
        }
        change_the_leaf(dir.path());
        let after = sources(dir.path());
        assert_eq!(after.summaries_made, Some(3));
        assert_eq!(after.analysed, 1);
        assert_eq!(after.report, fresh(dir.path()));
        change_the_helper(dir.path());
        let again = sources(dir.path());
        assert_eq!(
            (again.analysed, again.summaries_made),
            (2, Some(1)),
            "rewritten whole"
        );
        assert_eq!(again.report, fresh(dir.path()));
    }

    #[test]
    fn no_cache_and_fix_leave_no_cache_and_cache_dir_moves_it() {
        let dir = temp_tree(&[("a.rs", UNBOUNDED_RS)]);
        run(dir.path(), &["check", "--no-cache"]);
        run(dir.path(), &["check", "--fix"]);
        assert!(!dir.path().join(CACHE).exists());
        run(dir.path(), &["check", "--cache-dir", "elsewhere"]);
        assert!(dir.path().join("elsewhere/CACHEDIR.TAG").is_file());
        assert!(!dir.path().join(CACHE).exists());
    }

    #[test]
    fn a_damaged_cache_is_ignored_and_rewritten() {
        let dir = temp_tree(&[("a.rs", UNBOUNDED_RS)]);
        let cold = run(dir.path(), &["check", "--format", "json"]);
        let bucket = bucket(dir.path());
        let good = fs::read_to_string(&bucket).unwrap();
        fs::write(&bucket, &good[..good.len() / 2]).unwrap();
        let damaged = run(dir.path(), &["check", "--format", "json"]);
        assert_eq!(damaged.stdout, cold.stdout);
        assert_eq!(damaged.code, cold.code);
        let rewritten = fs::read_to_string(&bucket).unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&rewritten).is_ok());
    }

    #[test]
    fn concurrent_runs_agree_and_leave_a_readable_cache() {
        let files: Vec<(String, String)> = (0..40)
            .map(|i| {
                let text = if i % 2 == 0 { UNBOUNDED_RS } else { BOUNDED_RS };
                (format!("src/f{i}.rs"), format!("// {i}\n{text}"))
            })
            .collect();
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let dir = temp_tree(&borrowed);
        let expected = run(dir.path(), &["check", "--format", "json", "--no-cache"]);
        for _ in 0..3 {
            let runs: Vec<_> = (0..4)
                .map(|_| {
                    std::process::Command::new(common::binary())
                        .args(["check", "--format", "json", "--jobs", "2"])
                        .current_dir(dir.path())
                        .env("NO_COLOR", "1")
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::null())
                        .spawn()
                        .unwrap()
                })
                .collect();
            for child in runs {
                let output = child.wait_with_output().unwrap();
                assert_eq!(String::from_utf8(output.stdout).unwrap(), expected.stdout);
            }
        }
        let text = fs::read_to_string(bucket(dir.path())).unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
    }
}
