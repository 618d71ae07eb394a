//! Running the real `distsys-review` binary and normalizing what it prints, for end-to-end and snapshot tests.
//!
//! To snapshot another tree (e.g. a sample project), call [`scan`] with its path: output paths are relative to
//! the tree's `distsys-review.toml` (or to the tree itself when it has none), and the absolute root and the
//! tool's version are replaced by `[ROOT]` and `[VERSION]`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// What one run printed and how it exited.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_distsys-review"))
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Runs the binary in `dir` with `args`, without colour and without the caller's logging settings.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("DSR_LOG")
        .output()
        .expect("the binary runs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Replaces what differs between machines: the absolute root (also as a `file://` URI) and the version.
pub fn normalize(text: &str, root: &Path) -> String {
    let root = root.to_string_lossy().replace('\\', "/");
    let root = root.trim_end_matches('/');
    let uri = format!("file://{}", percent_encode(root));
    text.replace(&uri, "file://[ROOT]")
        .replace(root, "[ROOT]")
        .replace(
            &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
            "\"[VERSION]\"",
        )
}

/// The SARIF renderer's encoding of paths in URIs: everything but unreserved characters and `/`.
fn percent_encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `distsys-review check --format FORMAT [extra...]` run inside `tree` (so its config is discovered and paths
/// are shown relative to it), with stdout and stderr normalized. Without the result cache: the trees are in
/// the repository, and a cache directory there would outlive the test.
pub fn scan(tree: &Path, format: &str, extra: &[&str]) -> Output {
    let mut args = vec!["check", "--no-cache", "--format", format];
    args.extend_from_slice(extra);
    let output = run(tree, &args);
    // The binary sees the current directory with symlinks resolved; the caller may not have.
    let canonical = tree.canonicalize().unwrap_or_else(|_| tree.to_path_buf());
    let clean = |text: &str| normalize(&normalize(text, &canonical), tree);
    Output {
        code: output.code,
        stdout: clean(&output.stdout),
        stderr: clean(&output.stderr),
    }
}
